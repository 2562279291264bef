package gitrepo

import (
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"time"

	"github.com/railyard-cd/railyard"
)

// The manifest repository layout (PRODUCT.md §3, Kuberpult's classic full
// layout). Every path is built here from validated names.

func envDir(env string) string    { return path.Join("environments", env) }
func envConfig(env string) string { return path.Join("environments", env, "config.json") }
func envAppDir(env, app string) string {
	return path.Join("environments", env, "applications", app)
}
func appDir(app string) string  { return path.Join("applications", app) }
func appTeam(app string) string { return path.Join("applications", app, "team") }
func releaseDir(app string, version int64) string {
	return path.Join("applications", app, "releases", strconv.FormatInt(version, 10))
}
func releaseManifest(app string, version int64, env string) string {
	return path.Join(releaseDir(app, version), "environments", env, "manifests.yaml")
}

// versionLink is the target of the version and queued_version symlinks,
// relative to environments/<env>/applications/<app>/.
func versionLink(app string, version int64) string {
	return "../../../../" + releaseDir(app, version)
}

// lockDir is where a lock's files live.
func lockDir(l *railyard.Lock) string {
	switch l.Kind {
	case railyard.LockApplication:
		return path.Join(envAppDir(l.Environment, l.Application), "locks", l.ID)
	case railyard.LockTeam:
		return path.Join("environments", l.Environment, "teams", l.Team, "locks", l.ID)
	default:
		return path.Join("environments", l.Environment, "locks", l.ID)
	}
}

// formatTime is how times are written into the repository.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func configJSON(c *railyard.EnvironmentConfig) []byte {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("gitrepo: encode environment config: %v", err)) // plain data: cannot fail
	}
	return append(b, '\n')
}

// releaseFiles are the metadata files of a release directory. Empty
// optional fields are left out, as Kuberpult does; undeploy is an empty
// marker file.
func releaseFiles(r *railyard.Release) map[string]string {
	files := map[string]string{"created_at": formatTime(r.CreatedAt)}
	optional := map[string]string{
		"source_commit_id": r.SourceCommitID,
		"source_author":    r.SourceAuthor,
		"source_message":   r.SourceMessage,
		"source_branch":    r.SourceBranch,
		"display_version":  r.DisplayVersion,
		"ci_link":          r.CILink,
		"team":             r.Team,
	}
	for name, v := range optional {
		if v != "" {
			files[name] = v
		}
	}
	if r.Undeploy {
		files["undeploy"] = ""
	}
	return files
}

// lockFiles are the files of a lock directory.
func lockFiles(l *railyard.Lock) map[string]string {
	files := map[string]string{
		"message":          l.Message,
		"created_by_name":  l.CreatedBy.Name,
		"created_by_email": l.CreatedBy.Email,
		"created_at":       formatTime(l.CreatedAt),
	}
	if l.CILink != "" {
		files["ci_link"] = l.CILink
	}
	if l.ExpiresAt != nil {
		files["expires_at"] = formatTime(*l.ExpiresAt)
	}
	return files
}
