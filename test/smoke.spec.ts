import { Controller, Get, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import jwksRsa from 'jwks-rsa';
import { Strategy } from 'passport-jwt';
@Controller() class C { @Get('x') x() { return { ok: 1 }; } }
@Module({ controllers: [C] }) class M {}
it('works', async () => {
  expect(typeof jwksRsa).toBe('function'); expect(typeof Strategy).toBe('function');
  const m = await Test.createTestingModule({ imports: [M] }).compile();
  const app = m.createNestApplication(); await app.init();
  await request(app.getHttpServer()).get('/x').expect(200, { ok: 1 });
  await app.close();
});
