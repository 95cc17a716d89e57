PRAGMA user_version=0;
BEGIN TRANSACTION;
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
INSERT INTO "_sqlite_migrations" VALUES(1,'wallet','m001_accounts_keys_credentials_shares','2026-11-28 09:21:36.205221+00:00');
INSERT INTO "_sqlite_migrations" VALUES(2,'wallet','m002_session_times_registry_name','2026-11-28 09:21:36.215777+00:00');
CREATE TABLE accounts (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
INSERT INTO "accounts" VALUES(1,'ada','$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA',1700000000);
INSERT INTO "accounts" VALUES(2,'Grace; Hopper','$argon2id$x',1700000100);
CREATE TABLE credentials (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        holder_key_id INTEGER NOT NULL REFERENCES holder_keys(id) ON DELETE CASCADE,
        format TEXT NOT NULL,
        raw TEXT NOT NULL,
        raw_sha256 TEXT NOT NULL,
        issuer TEXT NOT NULL,
        vct TEXT NOT NULL,
        title TEXT NOT NULL,
        issuer_name TEXT NOT NULL,
        ects REAL,
        eqf_level INTEGER,
        issued_on TEXT,
        badge TEXT NOT NULL,
        badge_detail TEXT NOT NULL,
        checked_at INTEGER NOT NULL,
        imported_at INTEGER NOT NULL, registry_name TEXT,
        UNIQUE (account_id, raw_sha256)
    );
INSERT INTO "credentials" VALUES(1,1,1,'dc+sd-jwt','eyJ~Semicolons; ''quotes'' and "double" -- not a comment; END; Università ∑','sha-1','did:key:z1','urn:microcred:vct:micro-credential:1','Semicolons; ''quotes'' and "double" -- not a comment; END; Università ∑','Università di Prova',5.5,6,'2026-05-01','verified','all checks passed',1700000010,1700000009,'Registry name; with ''quotes''');
INSERT INTO "credentials" VALUES(2,2,2,'vc+jwt','eyJ.x.y','sha-2','did:jwk:e30','VerifiableCredential','Plain','Issuer',NULL,NULL,NULL,'unchecked','',1700000110,1700000109,NULL);
CREATE TABLE holder_keys (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        thumbprint TEXT NOT NULL,
        public_jwk TEXT NOT NULL,
        sealed BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (account_id, thumbprint)
    );
INSERT INTO "holder_keys" VALUES(1,1,'thumb-1','{"kty":"EC","crv":"P-256"}',X'000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F303132333435363738393A3B3C3D3E3F404142434445464748494A4B4C4D4E4F505152535455565758595A5B5C5D5E5F606162636465666768696A6B6C6D6E6F707172737475767778797A7B7C7D7E7F808182838485868788898A8B8C8D8E8F909192939495969798999A9B9C9D9E9FA0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBFC0C1C2C3C4C5C6C7C8C9CACBCCCDCECFD0D1D2D3D4D5D6D7D8D9DADBDCDDDEDFE0E1E2E3E4E5E6E7E8E9EAEBECEDEEEFF0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF',1700000001);
INSERT INTO "holder_keys" VALUES(2,2,'thumb-2','{}',X'00FF3B27',1700000101);
CREATE TABLE sessions (
        id_sha256 TEXT PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL
    , last_seen_at INTEGER NOT NULL DEFAULT 0, authenticated_at INTEGER NOT NULL DEFAULT 0);
INSERT INTO "sessions" VALUES('s1',1,1700000002,1700000500,1700000003);
CREATE TABLE shares (
        id TEXT PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        credential_id INTEGER NOT NULL REFERENCES credentials(id) ON DELETE CASCADE,
        mode TEXT NOT NULL,
        audience TEXT NOT NULL,
        disclosed TEXT NOT NULL,
        presentation TEXT,
        qr_text TEXT,
        token_sha256 TEXT UNIQUE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        fetched_at INTEGER,
        withdrawn_at INTEGER
    );
INSERT INTO "shares" VALUES('sh1',1,1,'inline','https://verifier.example','["title"]','eyJ~kb','QR;text','tok-sha',1700000020,1700000320,NULL,NULL);
INSERT INTO "shares" VALUES('sh2',1,1,'link','aud','[]',NULL,NULL,NULL,1700000021,1700000321,1700000030,1700000031);
CREATE TABLE signin_attempts (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL COLLATE NOCASE,
        client TEXT NOT NULL,
        at INTEGER NOT NULL
    );
INSERT INTO "signin_attempts" VALUES(1,'ada','203.0.113.7',1700000040);
CREATE TABLE used_forms (
        form_id TEXT PRIMARY KEY,
        at INTEGER NOT NULL
    );
INSERT INTO "used_forms" VALUES('form-1',1700000041);
CREATE TABLE vp_requests (
        id TEXT PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        request TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        answered_at INTEGER
    );
INSERT INTO "vp_requests" VALUES('vp1',1,'{"nonce":"n;1"}',1700000050,1700000650,NULL);
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
CREATE INDEX sessions_account ON sessions(account_id);
CREATE INDEX credentials_account ON credentials(account_id, imported_at);
CREATE INDEX shares_account ON shares(account_id, created_at);
CREATE INDEX signin_attempts_username ON signin_attempts(username, at);
CREATE INDEX signin_attempts_client ON signin_attempts(client, at);
COMMIT;
