import { IsNotEmpty, IsString, Matches, MaxLength } from 'class-validator';

/** Body of `POST /api/todolist`. Unknown properties are refused by the global ValidationPipe. */
export class CreateTodoItemDto {
  @IsString()
  @IsNotEmpty()
  @Matches(/\S/, { message: 'description must not be blank' })
  @MaxLength(500)
  description!: string;
}
