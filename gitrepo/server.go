package gitrepo

import (
	"net/http"
	"net/http/cgi"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/railyard-cd/railyard/gitrepo/internal/gitcli"
)

// NewHTTPHandler serves the bare repository dir read-only over Git's smart
// HTTP protocol, through `git http-backend`, for requests under prefix
// (e.g. "/git/manifests.git"). Clones and fetches work; pushes are
// refused with 403 before they reach git.
func NewHTTPHandler(prefix, dir string) http.Handler {
	// git http-backend runs in dir and resolves GIT_PROJECT_ROOT from
	// there: a relative dir would be resolved twice.
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	gitPath, err := exec.LookPath("git")
	if err != nil {
		gitPath = "git"
	}
	backend := &cgi.Handler{
		Path: gitPath,
		Args: []string{"http-backend"},
		Root: prefix,
		Dir:  dir,
		Env: append(gitcli.BaseEnv(),
			"GIT_PROJECT_ROOT="+dir,
			"GIT_HTTP_EXPORT_ALL=1",
		),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; path.Clean(p) != p && path.Clean(p)+"/" != p || strings.Contains(p, "\x00") {
			http.Error(w, "path is not canonical", http.StatusBadRequest)
			return
		}
		if r.URL.Query().Get("service") == "git-receive-pack" || strings.HasSuffix(r.URL.Path, "/git-receive-pack") {
			http.Error(w, "This repository is read-only: Railyard writes it. Change state through the Railyard API.", http.StatusForbidden)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodPost && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		backend.ServeHTTP(w, r)
	})
}
