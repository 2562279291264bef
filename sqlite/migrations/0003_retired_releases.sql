-- retired_releases remembers every version whose release is gone (cleaned
-- up, or deleted with its application), so that a version number is never
-- used again: re-publishing a cleaned-up version with other content made
-- every later export fail. It has no foreign key to applications: retired
-- versions outlive their application, and an application created again
-- under the same name continues the numbering.
CREATE TABLE retired_releases (
	application  TEXT    NOT NULL,
	version      INTEGER NOT NULL,
	digest       TEXT    NOT NULL DEFAULT '', -- Release.Digest; '' when not known
	reason       TEXT    NOT NULL,            -- 'cleanup' or 'application deleted'
	published_at INTEGER,                     -- NULL when not known
	retired_at   INTEGER NOT NULL,
	PRIMARY KEY (application, version)
) WITHOUT ROWID;

-- A release's digest is kept from its creation on, so that retiring it
-- needs no read of its manifests; '' for the releases created before this
-- migration, whose digest is computed from their content when they retire.
ALTER TABLE releases ADD COLUMN digest TEXT NOT NULL DEFAULT '';

-- Versions retired before this migration are found in the event log, the
-- only record of them. A release's creation time is its event's time (the
-- engine stamps both with one clock reading). The digest of their content
-- stays unknown.
CREATE TEMP TABLE migrate_published AS
	SELECT c.value ->> 'application' AS application, c.value ->> 'version' AS version,
		e.id AS event_id, e.time AS time
	FROM events AS e, json_each(e.changes) AS c
	WHERE c.value ->> 'op' = 'release.create';
CREATE INDEX temp.migrate_published_key ON migrate_published (application, version, event_id);

-- Each way a version went: a release.delete change (cleanup), or the
-- deletion of its application after it was published.
CREATE TEMP TABLE migrate_retired AS
	SELECT c.value ->> 'application' AS application, c.value ->> 'version' AS version,
		e.id AS event_id, e.time AS time, 'cleanup' AS reason
	FROM events AS e, json_each(e.changes) AS c
	WHERE c.value ->> 'op' = 'release.delete'
	UNION ALL
	SELECT p.application, p.version, e.id, e.time, 'application deleted'
	FROM events AS e, json_each(e.changes) AS c
	JOIN migrate_published AS p ON p.application = c.value ->> 'application' AND p.event_id < e.id
	WHERE c.value ->> 'op' = 'application.delete';

-- The first time a version went counts, with the publication before it.
-- A version that exists again today (the old code allowed publishing it
-- again) is left to be retired when it goes next.
INSERT INTO retired_releases (application, version, reason, published_at, retired_at)
	SELECT r.application, r.version, r.reason,
		(SELECT max(p.time) FROM migrate_published AS p
			WHERE p.application = r.application AND p.version = r.version AND p.event_id <= r.event_id),
		r.time
	FROM migrate_retired AS r
	WHERE NOT EXISTS (SELECT 1 FROM releases AS x WHERE x.application = r.application AND x.version = r.version)
	ORDER BY r.event_id
	ON CONFLICT (application, version) DO NOTHING;

DROP TABLE migrate_retired;
DROP TABLE migrate_published;
