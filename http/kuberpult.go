package http

import (
	nethttp "net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	railyard "github.com/railyard-cd/railyard"
)

// The Kuberpult-compatible endpoints let CI pipelines and Kuberpult's own
// client switch to Railyard unchanged. They are thin adapters onto the
// same commands as /api/v1; their wire format is described in
// ../shared/KUBERPULT-API.md and docs/api.md.

// kuberpultFieldNames maps the engine's release field names to the
// multipart field names, so that errors name the field the caller sent.
var kuberpultFieldNames = map[string]string{
	"sourceCommitId": "source_commit_id",
	"sourceAuthor":   "source_author",
	"sourceMessage":  "source_message",
	"sourceBranch":   "source_branch",
	"displayVersion": "display_version",
	"ciLink":         "ci_link",
}

// kuberpultReleaseResponse is the body of a successful release upload.
// Kuberpult answers {"Success":{}} on creation; the same version with the
// same content is {"AlreadyExistsSame":{}}. Release is Railyard's
// addition (the version an omitted version resolved to, for example).
type kuberpultReleaseResponse struct {
	Success           *struct{}         `json:"Success,omitempty"`
	AlreadyExistsSame *struct{}         `json:"AlreadyExistsSame,omitempty"`
	Release           *railyard.Release `json:"release,omitempty"`
}

// handleKuberpultRelease returns the handler of POST /release (classic,
// which may carry signatures) or POST /api/release (never signatures).
func (s *Server) handleKuberpultRelease(classic bool) handlerFunc {
	return func(w nethttp.ResponseWriter, r *nethttp.Request) error {
		actor, err := s.actor(r)
		if err != nil {
			return err
		}
		if r.ContentLength > s.opts.MaxRequestBytes {
			return requestError(&nethttp.MaxBytesError{Limit: s.opts.MaxRequestBytes})
		}
		form, err := parseRelease(r.Header.Get("Content-Type"), r.Body, s.opts.MaxManifestBytes, s.opts.MaxRequestBytes)
		if err != nil {
			return kuberpultReleaseError(err)
		}
		if len(form.Signatures) > 0 {
			field := "signatures[" + form.Signatures[0] + "]"
			if classic {
				return fieldError(field, "%s: signature verification is not configured on this server; send the release without signatures", railyard.Truncate(field, 80))
			}
			return fieldError(field, "%s: /api/release does not take signatures; send the release without them", railyard.Truncate(field, 80))
		}
		res, err := s.engine.ApplyOne(r.Context(), actor, &form.Release)
		if err != nil {
			return kuberpultReleaseError(err)
		}
		body := kuberpultReleaseResponse{Release: res.Release}
		if res.Outcome == railyard.OutcomeCreated {
			body.Success = &struct{}{}
		} else {
			body.AlreadyExistsSame = &struct{}{}
		}
		writeJSON(w, resultStatus(res), body)
		return nil
	}
}

// kuberpultReleaseError renames the field of a release error to its
// multipart name.
func kuberpultReleaseError(err error) error {
	e := railyard.AsError(err)
	if e == nil {
		return err
	}
	name, ok := kuberpultFieldNames[e.Field]
	if !ok {
		return err
	}
	cp := *e
	cp.Field = name
	// Messages start with the engine's name of the field; the caller
	// sent the multipart one.
	if rest, ok := strings.CutPrefix(cp.Message, e.Field); ok {
		cp.Message = name + rest
	}
	return &cp
}

// kuberpultLockRequest is the body of Kuberpult's lock PUT. Unknown fields
// are ignored, as Kuberpult ignores them, so that its clients keep working.
type kuberpultLockRequest struct {
	Message           string `json:"message"`
	CILink            string `json:"ciLink,omitempty"`
	SuggestedLifeTime string `json:"suggestedLifeTime,omitempty"`
}

// lifetimeRE matches a suggested lock lifetime: a positive number of
// minutes, hours, days or weeks ("30m", "4h", "2d", "1w").
var lifetimeRE = regexp.MustCompile(`^([1-9][0-9]{0,5})([mhdw])$`)

// lifetimeUnits are the durations of the lifetime units.
var lifetimeUnits = map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}

// parseLifetime parses a suggested lock lifetime.
func parseLifetime(s string) (time.Duration, error) {
	m := lifetimeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fieldError("suggestedLifeTime", "suggestedLifeTime %q is not valid: use a positive number and a unit m, h, d or w, such as \"4h\", \"2d\" or \"1w\"", railyard.Truncate(s, 40))
	}
	n, _ := strconv.Atoi(m[1])
	return time.Duration(n) * lifetimeUnits[m[2]], nil
}

// handleKuberpultCreateLock returns the handler of Kuberpult's lock PUT
// for one kind. The body must be declared JSON (415 otherwise); a
// suggestedLifeTime becomes the lock's expiry, counted from now. Kuberpult
// answers 201 for group locks and 200 for the others, and so do we.
func (s *Server) handleKuberpultCreateLock(kind railyard.LockKind) handlerFunc {
	return func(w nethttp.ResponseWriter, r *nethttp.Request) error {
		if err := requireJSON(r, true); err != nil {
			return err
		}
		var req kuberpultLockRequest
		if err := s.decodeJSONLenient(r, &req); err != nil {
			return err
		}
		var expiresAt *time.Time
		if req.SuggestedLifeTime != "" {
			d, err := parseLifetime(req.SuggestedLifeTime)
			if err != nil {
				return err
			}
			t := s.now().Add(d)
			expiresAt = &t
		}
		actor, err := s.actor(r)
		if err != nil {
			return err
		}
		cmd := &railyard.CreateLock{LockTarget: lockTargetOf(r, kind), Message: req.Message, CILink: req.CILink, ExpiresAt: expiresAt}
		res, err := s.engine.ApplyOne(r.Context(), actor, cmd)
		if err != nil {
			return err
		}
		status := nethttp.StatusOK
		if kind == railyard.LockGroup {
			status = nethttp.StatusCreated
		}
		writeJSON(w, status, answerResult(res, cmd))
		return nil
	}
}

// handleKuberpultDeleteLock returns the handler of Kuberpult's lock
// DELETE. Its client sends Content-Type application/json with an empty
// body; the body is not read at all.
func (s *Server) handleKuberpultDeleteLock(kind railyard.LockKind) handlerFunc {
	return func(w nethttp.ResponseWriter, r *nethttp.Request) error {
		return s.apply(w, r, &railyard.DeleteLock{LockTarget: lockTargetOf(r, kind)})
	}
}

// decodeJSONLenient reads a JSON body into v, ignoring unknown fields.
func (s *Server) decodeJSONLenient(r *nethttp.Request, v any) error {
	data, err := s.readBody(r)
	if err != nil {
		return err
	}
	return decodeLenient(data, v)
}

// decodeLenient decodes JSON data into v, ignoring unknown fields as
// Kuberpult does; duplicate fields, fields in the wrong case and invalid
// UTF-8 are refused as everywhere (see railyard.DecodeJSONLenient).
func decodeLenient(data []byte, v any) error {
	return railyard.DecodeJSONLenient(data, v)
}

// kuberpultManifests is the body of the client's release dry run.
type kuberpultManifests struct {
	Release   *railyard.Release                   `json:"release"`
	Manifests map[string]kuberpultManifestContent `json:"manifests"`
}

// kuberpultManifestContent is one environment's manifest in a dry run.
type kuberpultManifestContent struct {
	Environment string `json:"environment"`
	Content     string `json:"content"`
}

// handleKuberpultManifests answers the manifests of a release (the latest
// one, or the version in the path) without changing anything.
func (s *Server) handleKuberpultManifests(w nethttp.ResponseWriter, r *nethttp.Request) error {
	app := r.PathValue("app")
	var version int64
	if v := r.PathValue("version"); v != "" {
		var err error
		if version, err = railyard.ParseVersion(v); err != nil {
			return err
		}
	} else {
		detail, err := s.engine.FindApplication(r.Context(), app)
		if err != nil {
			return err
		}
		if len(detail.Releases) == 0 {
			return railyard.Errorf(railyard.ENOTFOUND, "application %s has no releases", app).WithField("version")
		}
		version = detail.Releases[0].Version
	}
	rel, err := s.engine.FindRelease(r.Context(), app, version)
	if err != nil {
		return err
	}
	out := kuberpultManifests{Manifests: make(map[string]kuberpultManifestContent, len(rel.Manifests))}
	for env, content := range rel.Manifests {
		out.Manifests[env] = kuberpultManifestContent{Environment: env, Content: content}
	}
	rel.Manifests = nil
	out.Release = rel
	writeJSON(w, nethttp.StatusOK, out)
	return nil
}

// releaseFormSchema describes the multipart release upload.
var releaseFormSchema = map[string]any{
	"type":     "object",
	"required": []string{"application"},
	"properties": map[string]any{
		"application":                       map[string]any{"type": "string", "description": "Application name (required)."},
		"manifests[<env>]":                  map[string]any{"type": "string", "format": "binary", "description": "The manifest YAML for environment <env>; one part per environment, at least one. The file name is irrelevant."},
		"signatures[<env>]":                 map[string]any{"type": "string", "format": "binary", "description": "Refused (400): signature verification is not configured."},
		"version":                           map[string]any{"type": "string", "description": "Positive integer; optional (then highest + 1)."},
		"team":                              map[string]any{"type": "string"},
		"source_commit_id":                  map[string]any{"type": "string", "description": "7 to 40 hexadecimal characters."},
		"source_author":                     map[string]any{"type": "string", "description": "`Name <mail>`."},
		"source_message":                    map[string]any{"type": "string"},
		"source_branch":                     map[string]any{"type": "string"},
		"display_version":                   map[string]any{"type": "string", "description": "At most 15 characters."},
		"ci_link":                           map[string]any{"type": "string", "description": "An http or https URL."},
		"previous_commit_id":                map[string]any{"type": "string", "description": "Accepted and ignored."},
		"revision":                          map[string]any{"type": "string", "description": "Accepted and ignored."},
		"is_prepublish":                     map[string]any{"type": "string", "description": "Accepted and ignored."},
		"deploy_to_downstream_environments": map[string]any{"type": "string", "description": "Accepted and ignored."},
		"source_repo_url":                   map[string]any{"type": "string", "description": "Accepted and ignored."},
	},
}

// kuberpultReleaseDoc documents one of the two release upload paths.
func kuberpultReleaseDoc(path string) *operation {
	signatures := "`signatures[<env>]` parts are refused: /api/release never takes them."
	if path == "/release" {
		signatures = "`signatures[<env>]` parts are refused with 400 \"signature verification is not configured\" (no keyring yet)."
	}
	return &operation{
		Tag:     "kuberpult",
		Summary: "Publish a release (Kuberpult-compatible)",
		Description: "Kuberpult's release upload, multipart/form-data. Each text field may appear at most once; parts with other names " +
			"are skipped. " + signatures + " Each manifest is limited to MaxManifestBytes and the whole body to MaxRequestBytes " +
			"(413). Answers 201 `{\"Success\":{}}` when created, 200 `{\"AlreadyExistsSame\":{}}` when this version exists with " +
			"identical content, 409 naming the first differing field (and a diff of the manifests) when it exists with different content.",
		Form: releaseFormSchema,
		Responses: []response{
			{201, "Created.", kuberpultReleaseResponse{}},
			{200, "The identical release already exists.", kuberpultReleaseResponse{}},
		},
		Errors: []int{400, 409, 413, 415},
	}
}

var kuberpultManifestsDoc = &operation{
	Tag:     "kuberpult",
	Summary: "Manifests of a release (Kuberpult client's dry run)",
	Description: "Read-only: the release (latest, or the version in the path) and its manifest for every environment. " +
		"404 when the application or the release does not exist. A request body is ignored.",
	Responses: []response{{200, "The release and its manifests.", kuberpultManifests{}}},
	Errors:    []int{400, 404},
}

// kuberpultCreateLockDoc documents Kuberpult's lock PUT for one kind.
func kuberpultCreateLockDoc(kind railyard.LockKind) *operation {
	status, text := 200, "Created or replaced."
	if kind == railyard.LockGroup {
		status = 201
	}
	return &operation{
		Tag:     "kuberpult",
		Summary: "Create " + string(kind) + " lock (Kuberpult-compatible)",
		Description: "Creates or replaces " + lockNoun[kind] + ". The Content-Type must be application/json (415 otherwise). " +
			"`message` is required; unknown fields are ignored. `suggestedLifeTime` (`30m`, `4h`, `2d`, `1w`) becomes the lock's " +
			"expiry, counted from the time of the request: Railyard removes the lock then.",
		Request:   kuberpultLockRequest{},
		Responses: []response{{status, text, railyard.Result{}}},
		Errors:    []int{400, 404, 413, 415},
	}
}

// kuberpultDeleteLockDoc documents Kuberpult's lock DELETE for one kind.
func kuberpultDeleteLockDoc(kind railyard.LockKind) *operation {
	return &operation{
		Tag:         "kuberpult",
		Summary:     "Delete " + string(kind) + " lock (Kuberpult-compatible)",
		Description: "Deletes " + lockNoun[kind] + ". The body is ignored (Kuberpult's client sends an empty one with Content-Type application/json).",
		Responses:   []response{{200, "Deleted.", railyard.Result{}}},
		Errors:      []int{400, 404},
	}
}
