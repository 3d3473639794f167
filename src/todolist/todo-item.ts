/** One to-do item, as the API returns it. */
export interface TodoItem {
  readonly id: string;
  readonly description: string;
  /** `oid` of the user (or of the daemon's service principal) that created it. */
  readonly owner: string;
}

/** Who is asking: the parts of the verified caller that decide what it may see. */
export interface TodoListCaller {
  readonly oid: string;
  readonly tid: string;
  readonly appOnly: boolean;
}
