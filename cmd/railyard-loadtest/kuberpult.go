package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The load tool speaks only the Kuberpult-compatible API described in
// ../shared/KUBERPULT-API.md, so that one run can target Railyard or any
// other server implementing it. The one exception is --setup, which
// creates environments through Railyard's own /api/v1.

// Actor of every request, sent base64-encoded as Kuberpult's client does.
const (
	actorName  = "railyard-loadtest"
	actorEmail = "loadtest@example.com"
)

// releaseBoundary is the multipart boundary of release uploads. It is
// fixed so that bodies are reproducible byte for byte; generated
// manifests never contain "--" followed by it.
const releaseBoundary = "railyard-loadtest-7d1e4c0b9a"

// maxErrorBody is how much of an error answer is kept as a sample.
const maxErrorBody = 300

// client sends the API calls of the load. It is safe for concurrent use.
type client struct {
	base        string
	http        *http.Client
	authorName  string
	authorEmail string
}

// newClient returns a client of the server at base that keeps a
// connection per concurrent worker open.
func newClient(base string, conns int, timeout time.Duration) *client {
	tr := &http.Transport{
		// No proxy from the environment: it would be measured too.
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns + 4,
		MaxIdleConnsPerHost: conns + 4,
		IdleConnTimeout:     90 * time.Second,
	}
	return &client{
		base:        strings.TrimRight(base, "/"),
		http:        &http.Client{Transport: tr, Timeout: timeout},
		authorName:  base64.StdEncoding.EncodeToString([]byte(actorName)),
		authorEmail: base64.StdEncoding.EncodeToString([]byte(actorEmail)),
	}
}

// close closes the idle connections.
func (c *client) close() { c.http.CloseIdleConnections() }

// answer is the outcome of one request: a status, or a transport error.
type answer struct {
	status int
	// body is the first maxErrorBody bytes of an error answer; the
	// answers of successes are read and dropped.
	body []byte
	err  error
}

// ok reports whether the server accepted the request: like Kuberpult's
// client, only 200 and 201 count.
func (a answer) ok() bool {
	return a.err == nil && (a.status == http.StatusOK || a.status == http.StatusCreated)
}

// do sends one request and reads the whole answer, so that the connection
// is reused.
func (c *client) do(ctx context.Context, method, path, contentType string, body []byte) answer {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return answer{err: err}
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("author-name", c.authorName)
	req.Header.Set("author-email", c.authorEmail)
	resp, err := c.http.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode}
	if !a.ok() {
		a.body, _ = io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	}
	// A success is complete only once its whole answer has arrived.
	if _, err := io.Copy(io.Discard, resp.Body); err != nil && a.ok() {
		a.err = err
	}
	return a
}

// releaseRequest is one release upload.
type releaseRequest struct {
	Application    string
	Version        int64
	Team           string
	SourceCommitID string
	SourceAuthor   string
	SourceMessage  string
	DisplayVersion string
	Manifests      []envManifest
}

// envManifest is the manifest of one environment.
type envManifest struct {
	Env     string
	Content []byte
}

// writeReleaseBody writes the multipart/form-data body of POST
// /api/release: the text fields that are set, in a fixed order, then one
// file part manifests[<env>] per environment. It returns the body's
// Content-Type.
func writeReleaseBody(w io.Writer, boundary string, r *releaseRequest) (string, error) {
	mw := multipart.NewWriter(w)
	if err := mw.SetBoundary(boundary); err != nil {
		return "", err
	}
	fields := []struct{ name, value string }{
		{"application", r.Application},
		{"version", versionField(r.Version)},
		{"team", r.Team},
		{"source_commit_id", r.SourceCommitID},
		{"source_author", r.SourceAuthor},
		{"source_message", r.SourceMessage},
		{"display_version", r.DisplayVersion},
	}
	for _, f := range fields {
		if f.value == "" {
			continue
		}
		if err := mw.WriteField(f.name, f.value); err != nil {
			return "", err
		}
	}
	for _, m := range r.Manifests {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="manifests[%s]"; filename="%s.yaml"`, m.Env, m.Env))
		h.Set("Content-Type", "application/yaml")
		part, err := mw.CreatePart(h)
		if err != nil {
			return "", err
		}
		if _, err := part.Write(m.Content); err != nil {
			return "", err
		}
	}
	if err := mw.Close(); err != nil {
		return "", err
	}
	return mw.FormDataContentType(), nil
}

// versionField is the version as sent: none for 0 (the server picks).
func versionField(v int64) string {
	if v <= 0 {
		return ""
	}
	return strconv.FormatInt(v, 10)
}

// release sends POST /api/release.
func (c *client) release(ctx context.Context, contentType string, body []byte) answer {
	return c.do(ctx, http.MethodPost, "/api/release", contentType, body)
}

// lockPath is the path of an environment lock.
func lockPath(env, id string) string {
	return "/environments/" + url.PathEscape(env) + "/locks/" + url.PathEscape(id)
}

// createLock sends PUT /environments/<env>/locks/<id>.
func (c *client) createLock(ctx context.Context, env, id, message string) answer {
	body, _ := json.Marshal(map[string]string{"message": message})
	return c.do(ctx, http.MethodPut, lockPath(env, id), "application/json", body)
}

// deleteLock sends DELETE /environments/<env>/locks/<id> with an empty
// JSON body, as Kuberpult's client does.
func (c *client) deleteLock(ctx context.Context, env, id string) answer {
	return c.do(ctx, http.MethodDelete, lockPath(env, id), "application/json", nil)
}

// trainPath is the release train path of a target: an environment, or
// "group:<name>" for an environment group; team is the ?team= filter.
func trainPath(target, team string) string {
	p := "/api/environments/" + url.PathEscape(target) + "/releasetrain"
	if group, ok := strings.CutPrefix(target, "group:"); ok {
		p = "/api/environment-groups/" + url.PathEscape(group) + "/releasetrain"
	}
	if team != "" {
		p += "?team=" + url.QueryEscape(team)
	}
	return p
}

// train sends PUT …/releasetrain with an empty body.
func (c *client) train(ctx context.Context, target, team string) answer {
	return c.do(ctx, http.MethodPut, trainPath(target, team), "application/json", nil)
}

// putEnvironment creates an environment through Railyard's own API (PUT
// /api/v1/environments/<env>): not part of the Kuberpult API.
func (c *client) putEnvironment(ctx context.Context, env string, config map[string]any) answer {
	body, err := json.Marshal(config)
	if err != nil {
		return answer{err: err}
	}
	return c.do(ctx, http.MethodPut, "/api/v1/environments/"+url.PathEscape(env), "application/json", body)
}

// environmentConfigs returns the configuration of every environment for a
// setup, in the order they must be created (upstreams first).
func environmentConfigs(setup, group string, envs []string) []map[string]any {
	configs := make([]map[string]any, len(envs))
	for i := range envs {
		switch {
		case i == 0 || setup == SetupLatest:
			configs[i] = map[string]any{"upstream": map[string]any{"latest": true}}
		case setup == SetupGroup:
			configs[i] = map[string]any{"upstream": map[string]any{"environment": envs[0]}, "environmentGroup": group}
		default:
			configs[i] = map[string]any{"upstream": map[string]any{"environment": envs[i-1]}}
		}
	}
	return configs
}

// setupEnvironments creates the environments of a setup.
func (c *client) setupEnvironments(ctx context.Context, setup, group string, envs []string) error {
	for i, cfg := range environmentConfigs(setup, group, envs) {
		a := c.putEnvironment(ctx, envs[i], cfg)
		if !a.ok() {
			return fmt.Errorf("set up environment %s with PUT /api/v1/environments/%s (Railyard's own API): %s", envs[i], envs[i], a.describe())
		}
	}
	return nil
}

// describe says what went wrong with a request.
func (a answer) describe() string {
	if a.err != nil {
		return a.err.Error()
	}
	return fmt.Sprintf("%d %s: %s", a.status, http.StatusText(a.status), strings.TrimSpace(string(a.body)))
}
