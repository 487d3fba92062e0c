/**
 * A stdio log's chunk whose lines all come from one stream is stored without the stream
 * letter in front of each line: `logchunks.stream` holds that letter ('o', 'e' or 'h') and
 * the reader puts it back. Null: the content reads as it is stored (lines prefixed in
 * stdio logs, plain in text logs; every chunk written before this migration). Decision 0021.
 */
import type { Kysely } from 'kysely';

export const logChunkStreamsMigration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('logchunks').addColumn('stream', 'text').execute();
  },
};
