-- Railyard's initial schema.
--
-- Times are INTEGER unix microseconds in UTC: the precision the engine keeps,
-- so a time read back is exactly the time written, and comparisons and
-- ordering are plain integer comparisons.
--
-- Small, fixed-shape tables are WITHOUT ROWID so that a lookup by primary key
-- is one B-tree search and a scan in key order needs no separate index.
-- Tables whose rows can be large (release messages, manifests, event
-- payloads) keep their rowid, as SQLite recommends for rows bigger than a
-- few hundred bytes.

CREATE TABLE environments (
	name       TEXT    NOT NULL PRIMARY KEY,
	config     TEXT    NOT NULL, -- JSON EnvironmentConfig
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE applications (
	name       TEXT    NOT NULL PRIMARY KEY,
	team       TEXT    NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- releases holds a release's metadata. environments is the sorted JSON array
-- of the environments it has manifests for, so that listing releases never
-- touches the (large) manifests.
CREATE TABLE releases (
	application      TEXT    NOT NULL REFERENCES applications (name) ON DELETE CASCADE,
	version          INTEGER NOT NULL,
	environments     TEXT    NOT NULL,
	team             TEXT    NOT NULL DEFAULT '',
	source_commit_id TEXT    NOT NULL DEFAULT '',
	source_author    TEXT    NOT NULL DEFAULT '',
	source_message   TEXT    NOT NULL DEFAULT '',
	source_branch    TEXT    NOT NULL DEFAULT '',
	display_version  TEXT    NOT NULL DEFAULT '',
	ci_link          TEXT    NOT NULL DEFAULT '',
	undeploy         INTEGER NOT NULL DEFAULT 0,
	created_at       INTEGER NOT NULL,
	PRIMARY KEY (application, version)
);

CREATE TABLE release_manifests (
	application TEXT    NOT NULL,
	version     INTEGER NOT NULL,
	environment TEXT    NOT NULL,
	content     TEXT    NOT NULL,
	PRIMARY KEY (application, version, environment),
	FOREIGN KEY (application, version) REFERENCES releases (application, version) ON DELETE CASCADE
);

-- deployments has no foreign keys: the engine deletes an application's or
-- environment's deployments itself, and an import may write them in any order.
CREATE TABLE deployments (
	application       TEXT    NOT NULL,
	environment       TEXT    NOT NULL,
	version           INTEGER,
	deployed_at       INTEGER,
	deployed_by_name  TEXT,    -- NULL: no DeployedBy
	deployed_by_email TEXT,
	queued_version    INTEGER,
	queued_at         INTEGER,
	queued_because    TEXT,    -- JSON []Blocker, NULL when empty
	PRIMARY KEY (application, environment)
) WITHOUT ROWID;

CREATE INDEX deployments_environment ON deployments (environment, application);

-- locks' primary key is the lock's identity in the order FindLocks returns
-- locks, so that listing needs no sort. There are few locks, so filtering
-- by application or team alone scans the table.
CREATE TABLE locks (
	environment      TEXT    NOT NULL,
	kind             TEXT    NOT NULL,
	application      TEXT    NOT NULL DEFAULT '',
	team             TEXT    NOT NULL DEFAULT '',
	id               TEXT    NOT NULL,
	message          TEXT    NOT NULL DEFAULT '',
	created_by_name  TEXT    NOT NULL DEFAULT '',
	created_by_email TEXT    NOT NULL DEFAULT '',
	created_at       INTEGER NOT NULL,
	ci_link          TEXT    NOT NULL DEFAULT '',
	expires_at       INTEGER,
	PRIMARY KEY (environment, kind, application, team, id)
) WITHOUT ROWID;


-- events is the append-only audit log. AUTOINCREMENT makes SQLite never hand
-- out an id again, even the newest one after its row is gone: an id read by
-- the exporter (its cursor) or a user (a link) always names the same event.
CREATE TABLE events (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	time        INTEGER NOT NULL,
	actor_name  TEXT    NOT NULL,
	actor_email TEXT    NOT NULL,
	kind        TEXT    NOT NULL,
	description TEXT    NOT NULL,
	payload     TEXT,             -- JSON, NULL when absent
	changes     TEXT    NOT NULL  -- JSON []Change
);

CREATE INDEX events_time ON events (time);
CREATE INDEX events_kind ON events (kind);
CREATE INDEX events_actor_name ON events (actor_name);
CREATE INDEX events_actor_email ON events (actor_email);

-- event_refs indexes events by what they touched. source_commit_id is kept
-- in lower case so that prefix queries are case-insensitive and can use the
-- index.
CREATE TABLE event_refs (
	event_id         INTEGER NOT NULL REFERENCES events (id),
	application      TEXT    NOT NULL DEFAULT '',
	environment      TEXT    NOT NULL DEFAULT '',
	source_commit_id TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX event_refs_application ON event_refs (application, event_id);
CREATE INDEX event_refs_environment ON event_refs (environment, event_id);
CREATE INDEX event_refs_source_commit_id ON event_refs (source_commit_id, event_id);
