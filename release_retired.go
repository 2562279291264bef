package railyard

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"
)

// RetiredRelease is a version of an application whose release is gone:
// cleaned up, or deleted with its application. Its number is never used
// again, not even for the same content: events, the Git history and links
// name a release by application and version, and each such name must
// keep meaning one content. Retired versions outlive their application, so
// that an application created again under the same name continues its
// numbering.
type RetiredRelease struct {
	Application string `json:"application"`
	Version     int64  `json:"version"`
	// Digest is the release's Digest, or "" when it is not known (a
	// release retired before Railyard recorded digests).
	Digest string `json:"digest,omitempty"`
	// Reason is RetiredByCleanup or RetiredWithApplication.
	Reason string `json:"reason"`
	// PublishedAt is when the release was created (the zero time when it
	// is not known); RetiredAt when it went.
	PublishedAt time.Time `json:"publishedAt"`
	RetiredAt   time.Time `json:"retiredAt"`
}

// Reasons a release was retired.
const (
	RetiredByCleanup       = "cleanup"
	RetiredWithApplication = "application deleted"
)

// Digest identifies the release's content: "sha256:" and the hexadecimal
// SHA-256 of its application, version, every field FirstDifference
// compares, and the SHA-256 of each manifest. Two releases have the same
// digest exactly when they name the same version and FirstDifference
// finds nothing.
func (r *Release) Digest() string {
	return r.DigestFromHashes(func(content string) [sha256.Size]byte { return sha256.Sum256([]byte(content)) })
}

// DigestFromHashes is Digest for a caller that has the SHA-256 of each
// manifest at hand (a store that keys manifest content by it):
// manifestSHA256 returns it for a manifest's content. Each field is
// written with its length first, so that no two contents encode alike.
func (r *Release) DigestFromHashes(manifestSHA256 func(content string) [sha256.Size]byte) string {
	h := sha256.New()
	for _, s := range []string{r.Application, strconv.FormatInt(r.Version, 10), r.SourceCommitID,
		r.SourceAuthor, r.SourceMessage, r.SourceBranch, r.DisplayVersion, r.Team, r.CILink,
		strconv.FormatBool(r.Undeploy), strconv.Itoa(len(r.Manifests))} {
		writeField(h, s)
	}
	for _, env := range slices.Sorted(maps.Keys(r.Manifests)) {
		writeField(h, env)
		sum := manifestSHA256(r.Manifests[env])
		h.Write(sum[:])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// writeField writes s to h, preceded by its length.
func writeField(h hash.Hash, s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	h.Write(n[:])
	io.WriteString(h, s)
}

// retiredVersionError is the answer to publishing a retired version: the
// version existed, when, and what to do instead. The same answer whether
// the content is identical or not, because the release no longer exists
// either way: a 200 would claim a release that a following deploy cannot
// find.
func retiredVersionError(rel *Release, r *RetiredRelease) *Error {
	what := "was"
	if !r.PublishedAt.IsZero() {
		what = "was published on " + r.PublishedAt.Format(time.RFC3339) + " and"
	}
	gone := "cleaned up"
	if r.Reason == RetiredWithApplication {
		gone = "deleted with its application"
	}
	advice := "versions are never reused: publish a new version"
	if r.Digest != "" && r.Digest == rel.Digest() {
		advice = "versions are never reused, not even for the same content: publish it as a new version"
	}
	return Errorf(ECONFLICT, "version %d of %s %s %s on %s; %s", rel.Version, rel.Application, what, gone,
		r.RetiredAt.Format(time.RFC3339), advice).WithField("version")
}

// refuseRetiredVersion answers ECONFLICT if rel's version was used before
// and retired: a version number names one content for ever.
func (c *commandContext) refuseRetiredVersion(ctx context.Context, rel *Release) error {
	retired, err := c.tx.FindRetiredRelease(ctx, rel.Application, rel.Version)
	switch {
	case err == nil:
		return retiredVersionError(rel, retired)
	case ErrorCode(err) == ENOTFOUND:
		return nil
	default:
		return err
	}
}

// retireRelease deletes a release and records its version as retired.
func (c *commandContext) retireRelease(ctx context.Context, app string, version int64, reason string) error {
	return c.tx.RetireRelease(ctx, &RetiredRelease{Application: app, Version: version, Reason: reason, RetiredAt: c.now})
}
