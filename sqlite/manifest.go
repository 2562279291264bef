package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/railyard-cd/railyard"
)

// Manifest content is stored once, in manifest_contents, keyed by its
// SHA-256 (migration 0002): release_manifests and the release.create
// changes of events name it by hash, so that neither a release's own copy
// in its event nor environments and versions sharing a manifest store the
// bytes again. Content rows are never deleted, because events reference
// them and events are never deleted; the store keeps no count of
// references that collection would need.

const (
	// ON CONFLICT DO NOTHING: the content is already there, under the
	// hash of the same bytes.
	putManifestContentSQL = `INSERT INTO manifest_contents (hash, content) VALUES (?, ?)
		ON CONFLICT (hash) DO NOTHING`
	findManifestContentSQL = `SELECT content FROM manifest_contents WHERE hash = ?`
)

// contentHash is the SHA-256 of a manifest's content.
type contentHash [sha256.Size]byte

// String returns the hash in lower-case hexadecimal, as events keep it.
func (h contentHash) String() string { return hex.EncodeToString(h[:]) }

// parseContentHash parses the hexadecimal form of a hash.
func parseContentHash(s string) (contentHash, error) {
	var h contentHash
	if hex.DecodedLen(len(s)) != len(h) {
		return h, fmt.Errorf("manifest hash %q: want %d hexadecimal characters", s, 2*len(h))
	}
	_, err := hex.Decode(h[:], []byte(s))
	return h, err
}

// contents remembers, for one Update, the hash of each manifest seen and
// which content rows exist, so that the manifests a command stores with a
// release and again with its event are hashed and written once. It lives
// no longer than one Update: a failed Update rolls its rows back.
type contents struct {
	hashes map[string]contentHash
	stored map[contentHash]bool
}

// hash returns the SHA-256 of content.
func (t *tx) hash(content string) contentHash {
	if h, ok := t.contents.hashes[content]; ok {
		return h
	}
	h := contentHash(sha256.Sum256([]byte(content)))
	if t.contents.hashes == nil {
		t.contents.hashes = map[string]contentHash{}
	}
	t.contents.hashes[content] = h
	return h
}

// manifestSHA256 is hash for Release.DigestFromHashes.
func (t *tx) manifestSHA256(content string) [sha256.Size]byte { return t.hash(content) }

// putContent stores content in manifest_contents unless it is there, and
// returns its hash.
func (t *tx) putContent(ctx context.Context, content string) (contentHash, error) {
	h := t.hash(content)
	if t.contents.stored[h] {
		return h, nil
	}
	if _, err := t.exec(ctx, putManifestContentSQL, h[:], content); err != nil {
		return h, err
	}
	if t.contents.stored == nil {
		t.contents.stored = map[contentHash]bool{}
	}
	t.contents.stored[h] = true
	return h, nil
}

// contentReader reads manifest content by hash, each hash once.
type contentReader struct {
	tx   *tx
	read map[contentHash]string
}

// contentBatch is how many hashes one query of load asks for: one query
// per batch of the exporter instead of one per manifest (each query has a
// fixed cost in database/sql and the driver, as much as reading 10 KB).
const contentBatch = 256

// load reads the content of every hash in hs not read yet, with one query
// per contentBatch hashes. A hash without content is left out; content
// then reports it.
func (r *contentReader) load(ctx context.Context, hs []contentHash) error {
	var missing []any
	for _, h := range hs {
		if _, ok := r.read[h]; !ok {
			missing = append(missing, h[:])
		}
	}
	for len(missing) > 0 {
		n := min(len(missing), contentBatch)
		if err := r.loadBatch(ctx, missing[:n]); err != nil {
			return err
		}
		missing = missing[n:]
	}
	return nil
}

// loadBatch reads the content of the hashes in args (each a []byte).
func (r *contentReader) loadBatch(ctx context.Context, args []any) error {
	q := `SELECT hash, content FROM manifest_contents WHERE hash IN (?` + strings.Repeat(", ?", len(args)-1) + `)`
	rows, err := r.tx.query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var hash []byte
		var c string
		if err := rows.Scan(&hash, &c); err != nil {
			return err
		}
		var h contentHash
		if copy(h[:], hash) != len(h) {
			return fmt.Errorf("manifest content: hash of %d bytes", len(hash))
		}
		r.remember(h, c)
	}
	return rows.Err()
}

// remember keeps the content of h.
func (r *contentReader) remember(h contentHash, c string) {
	if r.read == nil {
		r.read = map[contentHash]string{}
	}
	r.read[h] = c
}

// content returns the content of hash h.
func (r *contentReader) content(ctx context.Context, h contentHash) (string, error) {
	if c, ok := r.read[h]; ok {
		return c, nil
	}
	var c string
	err := r.tx.queryRow(ctx, findManifestContentSQL, h[:]).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("manifest content sha256:%s is missing", h)
	}
	if err != nil {
		return "", err
	}
	r.remember(h, c)
	return c, nil
}

// storedChange is a Change as the events table keeps it: the Release of a
// release.create change without its manifests, which are named by hash.
// Its Release field hides Change.Release from encoding/json (the shallower
// field wins), and so does storedRelease.Manifests hide Release.Manifests.
type storedChange struct {
	railyard.Change
	Release *storedRelease `json:"release,omitempty"`
}

type storedRelease struct {
	*railyard.Release
	// Manifests is only read: a change written before migration 0002
	// moved manifests out of events would carry them here.
	Manifests map[string]string `json:"manifests,omitempty"`
	// ManifestSHA256 maps each environment to the hash of its manifest.
	ManifestSHA256 map[string]string `json:"manifestSHA256,omitempty"`
}

// encodeChanges returns the JSON the events table keeps for changes,
// storing the manifests of release.create changes in manifest_contents.
func (t *tx) encodeChanges(ctx context.Context, changes []railyard.Change) ([]byte, error) {
	if changes == nil {
		changes = []railyard.Change{}
	}
	stored := make([]storedChange, len(changes))
	for i := range changes {
		stored[i].Change = changes[i]
		r := changes[i].Release
		if r == nil {
			continue
		}
		sr := &storedRelease{Release: r}
		if len(r.Manifests) > 0 {
			sr.ManifestSHA256 = make(map[string]string, len(r.Manifests))
			for env, content := range r.Manifests {
				h, err := t.putContent(ctx, content)
				if err != nil {
					return nil, err
				}
				sr.ManifestSHA256[env] = h.String()
			}
		}
		stored[i].Release = sr
	}
	return json.Marshal(stored)
}

// decodeStoredChanges decodes the changes of an event as the events table
// keeps them.
func decodeStoredChanges(data []byte) ([]storedChange, error) {
	var stored []storedChange
	err := json.Unmarshal(data, &stored)
	return stored, err
}

// contentHashes returns the hashes of the manifests that changes name.
func contentHashes(changes []storedChange) ([]contentHash, error) {
	var hs []contentHash
	for _, sc := range changes {
		if sc.Release == nil {
			continue
		}
		for _, s := range sc.Release.ManifestSHA256 {
			h, err := parseContentHash(s)
			if err != nil {
				return nil, err
			}
			hs = append(hs, h)
		}
	}
	return hs, nil
}

// changesOf returns the changes of stored, reading the manifests of
// release.create changes through r. The releases are new values, owned by
// the caller.
func changesOf(ctx context.Context, stored []storedChange, r *contentReader) ([]railyard.Change, error) {
	// Unmarshalling "[]" gives an empty, non-nil slice: Changes is never nil.
	changes := make([]railyard.Change, len(stored))
	for i, sc := range stored {
		changes[i] = sc.Change
		if sc.Release == nil {
			continue
		}
		rel, err := sc.Release.release(ctx, r)
		if err != nil {
			return nil, err
		}
		changes[i].Release = rel
	}
	return changes, nil
}

// release returns the stored release with its manifests read back.
func (sr *storedRelease) release(ctx context.Context, r *contentReader) (*railyard.Release, error) {
	rel := sr.Release
	if rel == nil {
		rel = &railyard.Release{}
	}
	rel.Manifests = sr.Manifests
	if len(sr.ManifestSHA256) == 0 {
		return rel, nil
	}
	rel.Manifests = make(map[string]string, len(sr.ManifestSHA256))
	for env, s := range sr.ManifestSHA256 {
		h, err := parseContentHash(s)
		if err != nil {
			return nil, err
		}
		if rel.Manifests[env], err = r.content(ctx, h); err != nil {
			return nil, err
		}
	}
	return rel, nil
}
