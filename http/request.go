package http

import (
	"encoding/base64"
	"io"
	"mime"
	nethttp "net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	railyard "github.com/railyard-cd/railyard"
)

// actor returns the actor of a request from the base64 author headers;
// without them, the configured default actor. An author-email without an
// author-name keeps the default name, since an event needs a name.
func (s *Server) actor(r *nethttp.Request) (railyard.Actor, error) {
	rawName, hasName := headerValue(r, headerAuthorName)
	rawEmail, hasEmail := headerValue(r, headerAuthorEmail)
	if !hasName && !hasEmail {
		return s.opts.DefaultActor, nil
	}
	name, err := decodeHeader(headerAuthorName, rawName)
	if err != nil {
		return railyard.Actor{}, err
	}
	email, err := decodeHeader(headerAuthorEmail, rawEmail)
	if err != nil {
		return railyard.Actor{}, err
	}
	if !hasName {
		name = s.opts.DefaultActor.Name
	}
	a := railyard.Actor{Name: name, Email: email}
	return a, a.Validate()
}

// headerValue returns a header and whether it was sent.
func headerValue(r *nethttp.Request, key string) (string, bool) {
	v := r.Header.Values(key)
	if len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// decodeHeader decodes a base64 author header into valid UTF-8 text.
func decodeHeader(name, raw string) (string, error) {
	data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(raw))
	if err != nil {
		return "", fieldError(name, "header %s must be base64-encoded (e.g. %q for \"alice\"): %v", name, base64.StdEncoding.EncodeToString([]byte("alice")), err)
	}
	if !utf8.Valid(data) {
		return "", fieldError(name, "header %s must decode to UTF-8 text", name)
	}
	return string(data), nil
}

// decodeJSON reads a JSON request body into v, rejecting unknown fields.
// The body is bounded by MaxBytesReader, so reading it whole is safe.
func decodeJSON(r *nethttp.Request, v any) error {
	if err := requireJSON(r, false); err != nil {
		return err
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return requestError(err)
	}
	return railyard.DecodeJSONStrict(data, v)
}

// requireJSON refuses a body that says it is not JSON. Requiring the type
// stops a browser form on another site from posting to the API (a
// cross-site form cannot send application/json). When strict, an absent
// Content-Type is refused too (Kuberpult's lock endpoints do so).
func requireJSON(r *nethttp.Request, strict bool) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" && !strict {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return nil
	}
	return railyard.Errorf(railyard.EUNSUPPORTED, "Content-Type %q is not supported: send the body as application/json", truncate(ct, 100)).WithField("Content-Type")
}

// parseVersion parses a release version from the path: a positive integer.
func parseVersion(s string) (int64, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		return 0, fieldError("version", "version %q must be a positive integer", truncate(s, 60))
	}
	return v, nil
}

// resultStatus is 201 when the command created something, 200 otherwise
// (updated, unchanged, deleted, deployed, queued).
func resultStatus(res *railyard.Result) int {
	if res.Outcome == railyard.OutcomeCreated {
		return nethttp.StatusCreated
	}
	return nethttp.StatusOK
}

// apply runs one command as the request's actor and answers its result.
func (s *Server) apply(w nethttp.ResponseWriter, r *nethttp.Request, cmd railyard.Command) error {
	actor, err := s.actor(r)
	if err != nil {
		return err
	}
	res, err := s.engine.ApplyOne(r.Context(), actor, cmd)
	if err != nil {
		return err
	}
	writeJSON(w, resultStatus(res), res)
	return nil
}
