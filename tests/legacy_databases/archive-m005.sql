PRAGMA user_version=0;
BEGIN TRANSACTION;
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
INSERT INTO "_sqlite_migrations" VALUES(1,'issuer-archive','m001_credentials_lists_offers_nonces','2026-11-28 17:17:43.472254+00:00');
INSERT INTO "_sqlite_migrations" VALUES(2,'issuer-archive','m002_batches','2026-11-28 17:17:43.491548+00:00');
INSERT INTO "_sqlite_migrations" VALUES(3,'issuer-archive','m003_twins','2026-11-28 17:17:43.495569+00:00');
INSERT INTO "_sqlite_migrations" VALUES(4,'issuer-archive','m004_status_changes','2026-11-28 17:17:43.497002+00:00');
INSERT INTO "_sqlite_migrations" VALUES(5,'issuer-archive','m005_issuance_anchors','2026-11-28 17:17:43.507587+00:00');
CREATE TABLE "batches" (
   "id" TEXT PRIMARY KEY,
   "content_sha256" TEXT NOT NULL,
   "state" TEXT NOT NULL,
   "out_dir" TEXT,
   "created_at" INTEGER,
   "size" INTEGER,
   "delivered_at" INTEGER
);
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
, "batch_row" INTEGER, "kind" TEXT NOT NULL DEFAULT 'microcred', "twin_of" TEXT);
CREATE TABLE "issuance_leaves" (
   "credential_id" TEXT PRIMARY KEY,
   "batch_id" TEXT,
   "jwt_sha256" TEXT NOT NULL,
   "root" TEXT,
   "idx" INTEGER
);
CREATE TABLE "issuance_trees" (
   "root" TEXT PRIMARY KEY,
   "batch_id" TEXT,
   "size" INTEGER NOT NULL,
   "leaves" BLOB NOT NULL,
   "created_at" INTEGER NOT NULL,
   "anchored_block" INTEGER,
   "anchored_tx" TEXT,
   "anchored_by" TEXT,
   "anchor_error" TEXT
);
CREATE TABLE "nonces" (
   "value" TEXT PRIMARY KEY,
   "expires_at" INTEGER
);
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
CREATE TABLE "status_changes" (
   "id" INTEGER PRIMARY KEY,
   "credential_id" TEXT NOT NULL,
   "status" TEXT NOT NULL,
   "reason" TEXT,
   "source" TEXT,
   "line" INTEGER,
   "changed_at" INTEGER NOT NULL
);
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
, "kind" TEXT NOT NULL DEFAULT 'ietf');
INSERT INTO "status_lists" VALUES('L1',131072,2,1700000000,2,2,'eyJ.v2-of-L1.sig','a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1',1700000200,2,'0xabc',412,NULL,'ietf');
INSERT INTO "status_lists" VALUES('L2',131072,2,1700000100,1,3,'eyJ.v3-of-L2; ''quoted''.sig','b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2',1700000300,2,'0xdef',415,'node said: no; retry','ietf');
INSERT INTO "status_lists" VALUES('L3',131072,2,1700000400,0,0,NULL,NULL,NULL,0,NULL,NULL,NULL,'ietf');
INSERT INTO "status_lists" VALUES('B1',131072,1,1700000500,1,1,'eyJ.v1-of-B1.sig','c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3',1700000500,1,'0x123',420,NULL,'bitstring');
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
CREATE INDEX "idx_credentials_twin_of"
    ON "credentials" ("twin_of");
CREATE INDEX "idx_status_changes_credential_id"
    ON "status_changes" ("credential_id");
CREATE INDEX "idx_issuance_leaves_root_idx"
    ON "issuance_leaves" ("root", "idx");
CREATE INDEX "idx_issuance_leaves_batch_id"
    ON "issuance_leaves" ("batch_id");
COMMIT;
