/** Where resolved registry ids are kept across restarts (the buffer database; see buffer/sqlite-schema-id-store.ts). */
export interface StoredSchemaId {
  subject: string;
  /** sha256 (hex) of the schema text as registered. */
  schemaHash: string;
  id: number;
}

export interface SchemaIdStore {
  /** Every id cached for the registry at `registry` (its URL without credentials). */
  load(registry: string): StoredSchemaId[];
  save(registry: string, entry: StoredSchemaId): void;
}
