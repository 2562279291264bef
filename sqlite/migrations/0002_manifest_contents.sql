-- Manifest content is stored once, keyed by its SHA-256, and shared by
-- releases and events. Before, release_manifests held every manifest and
-- every event's release.create change held another copy in its JSON, so
-- the database grew to 2.3 times the manifest bytes; identical manifests
-- (environments sharing one, a version published again for another
-- environment) were also stored again each time.
--
-- manifest_contents rows are never deleted: events reference them, and
-- events are never deleted (see docs/ARCHITECTURE.md, "The store").
--
-- sha256() is the SQL function the store registers on its connections
-- (sqlite/driver.go): the same digest as Go's crypto/sha256 of the text's
-- UTF-8 bytes, which is how new content is keyed.

-- A rowid table: content rows are large, and the primary key's index
-- finds them by hash.
CREATE TABLE manifest_contents (
	hash    BLOB NOT NULL PRIMARY KEY, -- SHA-256 of content (32 bytes)
	content TEXT NOT NULL
);

-- release_manifests now names its content by hash; its rows are small.
CREATE TABLE release_manifests_by_hash (
	application TEXT    NOT NULL,
	version     INTEGER NOT NULL,
	environment TEXT    NOT NULL,
	hash        BLOB    NOT NULL REFERENCES manifest_contents (hash),
	PRIMARY KEY (application, version, environment),
	FOREIGN KEY (application, version) REFERENCES releases (application, version) ON DELETE CASCADE
) WITHOUT ROWID;

INSERT INTO manifest_contents (hash, content)
	SELECT sha256(content), content FROM release_manifests WHERE true
	ON CONFLICT (hash) DO NOTHING;

INSERT INTO release_manifests_by_hash (application, version, environment, hash)
	SELECT application, version, environment, sha256(content) FROM release_manifests;

DROP TABLE release_manifests;
ALTER TABLE release_manifests_by_hash RENAME TO release_manifests;

-- Events: the manifests of every release.create change (also of releases
-- cleaned up long ago) move to manifest_contents ...
INSERT INTO manifest_contents (hash, content)
	SELECT sha256(m.value), m.value
	FROM events AS e, json_each(e.changes) AS c, json_each(c.value, '$.release.manifests') AS m
	WHERE json_type(c.value, '$.release.manifests') = 'object'
	ON CONFLICT (hash) DO NOTHING;

-- ... and the change keeps, instead of "manifests", "manifestSHA256": the
-- lower-case hexadecimal hash of each environment's manifest. This is the
-- form the store writes (sqlite/manifest.go); the changes keep their order.
UPDATE events SET changes = (
	SELECT json_group_array(json(
		CASE WHEN json_type(c.value, '$.release.manifests') = 'object' THEN
			json_set(json_remove(c.value, '$.release.manifests'), '$.release.manifestSHA256', json((
				SELECT json_group_object(m.key, lower(hex(sha256(m.value))))
				FROM json_each(c.value, '$.release.manifests') AS m)))
		ELSE c.value
		END) ORDER BY c.key)
	FROM json_each(events.changes) AS c)
WHERE EXISTS (
	SELECT 1 FROM json_each(events.changes) AS c
	WHERE json_type(c.value, '$.release.manifests') = 'object');
