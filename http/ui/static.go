package ui

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
)

//go:embed static
var staticFS embed.FS

// asset is one embedded file with its content hash.
type asset struct {
	body        []byte
	hash        string
	contentType string
}

// assets are the embedded static files, served at /static/<hash>/<name>.
// The hash is of the content, so a URL never changes meaning and the
// browser may cache it for a year; a new build changes the URL.
type assets struct {
	files map[string]*asset
}

// newAssets reads and hashes the embedded files.
func newAssets() *assets {
	a := &assets{files: map[string]*asset{}}
	entries, err := fs.ReadDir(staticFS, "static")
	if err != nil {
		panic(err) // embedded: cannot fail unless the build is broken
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		body, err := staticFS.ReadFile("static/" + e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(body)
		ct := mime.TypeByExtension(path.Ext(e.Name()))
		if ct == "" {
			ct = "application/octet-stream"
		}
		a.files[e.Name()] = &asset{body: body, hash: hex.EncodeToString(sum[:])[:16], contentType: ct}
	}
	return a
}

// url returns the path of an embedded file. An unknown name is a bug in a
// template, which every page test finds.
func (a *assets) url(name string) string {
	f, ok := a.files[name]
	if !ok {
		panic("ui: no static file " + name)
	}
	return "/static/" + f.hash + "/" + name
}

// serve answers GET /static/{hash}/{name}. A hash that is not the
// current one is 404: caching an old URL for a year with new content
// would be wrong.
func (a *assets) serve(w http.ResponseWriter, r *http.Request) {
	f, ok := a.files[r.PathValue("name")]
	if !ok || f.hash != r.PathValue("hash") {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("ETag", `"`+f.hash+`"`)
	if r.Header.Get("If-None-Match") == `"`+f.hash+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(f.body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(f.body)
}
