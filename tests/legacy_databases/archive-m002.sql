PRAGMA user_version=0;
BEGIN TRANSACTION;
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
INSERT INTO "_sqlite_migrations" VALUES(1,'issuer-archive','m001_credentials_lists_offers_nonces','2026-11-28 09:15:51.660355+00:00');
INSERT INTO "_sqlite_migrations" VALUES(2,'issuer-archive','m002_batches','2026-11-28 09:15:51.675314+00:00');
CREATE TABLE "batches" (
   "id" TEXT PRIMARY KEY,
   "content_sha256" TEXT NOT NULL,
   "state" TEXT NOT NULL,
   "out_dir" TEXT,
   "created_at" INTEGER,
   "size" INTEGER,
   "delivered_at" INTEGER
);
INSERT INTO "batches" VALUES('b1','efefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefef','delivered','/srv/out; autumn',1700000000,1,1700000050);
CREATE TABLE "credentials" (
   "id" TEXT PRIMARY KEY,
   "batch_id" TEXT,
   "student_id" TEXT,
   "given_name" TEXT,
   "family_name" TEXT,
   "title" TEXT,
   "claims" TEXT NOT NULL,
   "holder_jwk" TEXT,
   "list_id" TEXT NOT NULL,
   "idx" INTEGER NOT NULL,
   "status" TEXT NOT NULL,
   "delivery" TEXT,
   "issued_at" INTEGER,
   "sd_jwt_sha256" TEXT,
   "replaces" TEXT,
   "replaced_by" TEXT,
   "offer_id" TEXT
, "batch_row" INTEGER);
INSERT INTO "credentials" VALUES('c1','b1','S-1','Ada','Lovelace; Byron','Semicolons; ''quotes'' and "double" -- not a comment; END; Università ∑','{"title":"Semicolons; quotes"}','{"kty":"EC"}','L1',88123,'valid','file',1700000000,'abababababababababababababababababababababababababababababababab',NULL,'c2',NULL,1);
INSERT INTO "credentials" VALUES('c2','b1','S-1','Ada','Lovelace','Re-issued','{}',NULL,'L1',7,'revoked','offer',1700000100,NULL,'c1',NULL,'o1',NULL);
CREATE TABLE "nonces" (
   "value" TEXT PRIMARY KEY,
   "expires_at" INTEGER
);
INSERT INTO "nonces" VALUES('nonce-1',1700000400);
CREATE TABLE "offers" (
   "id" TEXT PRIMARY KEY,
   "credential_id" TEXT,
   "pre_authorized_code" TEXT,
   "created_at" INTEGER,
   "expires_at" INTEGER,
   "redeemed_at" INTEGER,
   "access_token_sha256" TEXT,
   "token_expires_at" INTEGER
);
INSERT INTO "offers" VALUES('o1','c2','code;1',1700000100,1700086500,NULL,NULL,NULL);
CREATE TABLE "status_lists" (
   "id" TEXT PRIMARY KEY,
   "size" INTEGER,
   "bits" INTEGER,
   "created_at" INTEGER,
   "used" INTEGER DEFAULT 0,
   "version" INTEGER DEFAULT 0,
   "token" TEXT,
   "token_sha256" TEXT,
   "signed_at" INTEGER,
   "anchored_version" INTEGER DEFAULT 0,
   "anchored_tx" TEXT,
   "anchored_block" INTEGER,
   "anchor_error" TEXT
);
INSERT INTO "status_lists" VALUES('L1',131072,2,1700000000,2,3,'eyJ.list.sig','cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd',1700000200,2,'0xabc',412,'node said: no; retry');
INSERT INTO "status_lists" VALUES('L2',131072,2,1700000300,0,0,NULL,NULL,NULL,0,NULL,NULL,NULL);
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
CREATE UNIQUE INDEX "idx_credentials_list_id_idx"
    ON "credentials" ("list_id", "idx");
CREATE INDEX "idx_credentials_student_id"
    ON "credentials" ("student_id");
CREATE INDEX "idx_credentials_batch_id"
    ON "credentials" ("batch_id");
CREATE UNIQUE INDEX "idx_offers_pre_authorized_code"
    ON "offers" ("pre_authorized_code");
CREATE INDEX "idx_offers_access_token_sha256"
    ON "offers" ("access_token_sha256");
COMMIT;
