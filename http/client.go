package http

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	nethttp "net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	railyard "github.com/railyard-cd/railyard"
)

// maxErrorBodyBytes bounds how much of an error answer the client reads:
// error bodies are short, and a misbehaving server must not make the
// client buffer without end.
const maxErrorBodyBytes = 1 << 20

// Client talks to a Railyard server's JSON API. Its methods mirror the
// engine's vocabulary, and every error the server answers comes back as a
// *railyard.Error, so callers use railyard.ErrorCode and railyard.AsError
// exactly as they would against the engine itself.
//
// A Client is safe for concurrent use once its fields are set.
type Client struct {
	baseURL string

	// HTTPClient sends the requests; nil means nethttp.DefaultClient.
	HTTPClient *nethttp.Client
	// Actor is sent as the base64 author-name / author-email headers when
	// its Name is not empty; otherwise the server uses its default actor.
	Actor railyard.Actor
}

// NewClient returns a client for the server at baseURL, e.g.
// "http://127.0.0.1:8080".
func NewClient(baseURL string) *Client {
	return &Client{baseURL: strings.TrimRight(baseURL, "/")}
}

// PutEnvironment creates an environment or replaces its configuration.
func (c *Client) PutEnvironment(ctx context.Context, name string, cfg railyard.EnvironmentConfig) (*railyard.Result, error) {
	var res railyard.Result
	return &res, c.do(ctx, "PUT", "/api/v1/environments/"+seg(name), nil, cfg, &res)
}

// FindEnvironments returns every environment, ordered by name.
func (c *Client) FindEnvironments(ctx context.Context) ([]*railyard.Environment, error) {
	var out environmentList
	err := c.do(ctx, "GET", "/api/v1/environments", nil, nil, &out)
	return out.Environments, err
}

// FindEnvironment returns one environment; ENOTFOUND if it does not exist.
func (c *Client) FindEnvironment(ctx context.Context, name string) (*railyard.Environment, error) {
	var env railyard.Environment
	return &env, c.do(ctx, "GET", "/api/v1/environments/"+seg(name), nil, nil, &env)
}

// DeleteEnvironment deletes an environment with its locks and deployments.
func (c *Client) DeleteEnvironment(ctx context.Context, name string) (*railyard.Result, error) {
	var res railyard.Result
	return &res, c.do(ctx, "DELETE", "/api/v1/environments/"+seg(name), nil, nil, &res)
}

// CreateRelease publishes a release. An identical re-publish succeeds with
// outcome "unchanged"; a different one fails with ECONFLICT.
func (c *Client) CreateRelease(ctx context.Context, cr *railyard.CreateRelease) (*railyard.Result, error) {
	var res railyard.Result
	return &res, c.do(ctx, "POST", "/api/v1/applications/"+seg(cr.Application)+"/releases", nil, cr, &res)
}

// FindApplications returns every application, ordered by name.
func (c *Client) FindApplications(ctx context.Context) ([]*railyard.Application, error) {
	var out applicationList
	err := c.do(ctx, "GET", "/api/v1/applications", nil, nil, &out)
	return out.Applications, err
}

// FindApplication returns an application with its releases and its state
// in every environment; ENOTFOUND if it does not exist.
func (c *Client) FindApplication(ctx context.Context, name string) (*railyard.ApplicationDetail, error) {
	var detail railyard.ApplicationDetail
	return &detail, c.do(ctx, "GET", "/api/v1/applications/"+seg(name), nil, nil, &detail)
}

// DeleteApplication deletes an application, its releases and locks.
func (c *Client) DeleteApplication(ctx context.Context, name string) (*railyard.Result, error) {
	var res railyard.Result
	return &res, c.do(ctx, "DELETE", "/api/v1/applications/"+seg(name), nil, nil, &res)
}

// FindRelease returns a release with its manifests.
func (c *Client) FindRelease(ctx context.Context, app string, version int64) (*railyard.Release, error) {
	var rel railyard.Release
	path := "/api/v1/applications/" + seg(app) + "/releases/" + strconv.FormatInt(version, 10)
	return &rel, c.do(ctx, "GET", path, nil, nil, &rel)
}

// Deploy deploys a release by hand. When locks block it, the result
// depends on d.LockBehavior; with "fail" (the default) the error is
// ELOCKED and lists the blockers.
func (c *Client) Deploy(ctx context.Context, d railyard.Deploy) (*railyard.Result, error) {
	var res railyard.Result
	path := "/api/v1/applications/" + seg(d.Application) + "/environments/" + seg(d.Environment) + "/deploy"
	body := deployRequest{Version: d.Version, LockBehavior: d.LockBehavior}
	return &res, c.do(ctx, "POST", path, nil, body, &res)
}

// ReleaseTrain runs a release train, or with dryRun computes its
// prognosis (then the result's Train has DryRun set, its outcome is
// "unchanged" and nothing changes). The route follows the fields set: an
// environment, an environment group, or with Application an environment
// for a promotion of that application. Either way the answer's Train lists
// what the train did with every environment and application. ScheduledAt
// cannot be sent: only the server's scheduler sets it.
func (c *Client) ReleaseTrain(ctx context.Context, t railyard.ReleaseTrain, dryRun bool) (*railyard.Result, error) {
	var path string
	var body any
	switch {
	case t.ScheduledAt != nil:
		return nil, railyard.Errorf(railyard.EINVALID, "scheduledAt is set by Railyard's scheduler only: leave it out").WithField("scheduledAt")
	case t.Environment != "" && t.Group != "":
		return nil, railyard.Errorf(railyard.EINVALID, "group: give either an environment or an environment group, not both").WithField("group")
	case t.Application != "" && t.Environment == "":
		return nil, railyard.Errorf(railyard.EINVALID, "environment: give the environment to promote %s to", t.Application).WithField("environment")
	case t.Application != "":
		if t.Team != "" {
			return nil, railyard.Errorf(railyard.EINVALID, "team: a promotion of one application takes no team").WithField("team")
		}
		path = "/api/v1/applications/" + seg(t.Application) + "/environments/" + seg(t.Environment) + "/promote"
		body = promoteRequest{DryRun: dryRun, CILink: t.CILink}
	case t.Environment != "":
		path = "/api/v1/environments/" + seg(t.Environment) + "/release-train"
		body = trainRequest{Team: t.Team, DryRun: dryRun, CILink: t.CILink}
	case t.Group != "":
		path = "/api/v1/environment-groups/" + seg(t.Group) + "/release-train"
		body = trainRequest{Team: t.Team, DryRun: dryRun, CILink: t.CILink}
	default:
		return nil, railyard.Errorf(railyard.EINVALID, "environment: give the environment (or the environment group) the release train goes to").WithField("environment")
	}
	var res railyard.Result
	return &res, c.do(ctx, "POST", path, nil, body, &res)
}

// Promote deploys to env the version of app that env's upstream runs: a
// release train of one application. Blocked, it is queued (outcome
// "queued"), not refused; res.Train says what happened.
func (c *Client) Promote(ctx context.Context, app, env string) (*railyard.Result, error) {
	return c.ReleaseTrain(ctx, railyard.ReleaseTrain{Environment: env, Application: app}, false)
}

// Rollback deploys the version that ran before the current one (Version
// 0) or the given version, by hand: like Deploy, blocked with
// LockBehavior "fail" it is ELOCKED listing the blockers.
func (c *Client) Rollback(ctx context.Context, r railyard.Rollback) (*railyard.Result, error) {
	var res railyard.Result
	path := "/api/v1/applications/" + seg(r.Application) + "/environments/" + seg(r.Environment) + "/rollback"
	body := rollbackRequest{Version: r.Version, LockBehavior: r.LockBehavior}
	return &res, c.do(ctx, "POST", path, nil, body, &res)
}

// DeployWindowState says whether the deploy windows of env allow
// automatic deployments now, what blocks them if not, and when that
// changes next.
func (c *Client) DeployWindowState(ctx context.Context, env string) (*railyard.WindowState, error) {
	var st railyard.WindowState
	return &st, c.do(ctx, "GET", "/api/v1/environments/"+seg(env)+"/deploy-windows", nil, nil, &st)
}

// CreateLock creates or replaces a lock; the target's kind chooses the route.
func (c *Client) CreateLock(ctx context.Context, l railyard.CreateLock) (*railyard.Result, error) {
	path, err := lockPath(l.LockTarget)
	if err != nil {
		return nil, err
	}
	body := lockRequest{Message: l.Message, CILink: l.CILink}
	if l.ExpiresAt != nil {
		body.ExpiresAt = l.ExpiresAt.Format(time.RFC3339Nano)
	}
	var res railyard.Result
	return &res, c.do(ctx, "PUT", path, nil, body, &res)
}

// DeleteLock deletes a lock; the target's kind chooses the route.
func (c *Client) DeleteLock(ctx context.Context, l railyard.DeleteLock) (*railyard.Result, error) {
	path, err := lockPath(l.LockTarget)
	if err != nil {
		return nil, err
	}
	var res railyard.Result
	return &res, c.do(ctx, "DELETE", path, nil, nil, &res)
}

// lockPath returns the API path of the lock t names.
func lockPath(t railyard.LockTarget) (string, error) {
	switch t.Kind {
	case railyard.LockEnvironment:
		return "/api/v1/environments/" + seg(t.Environment) + "/locks/" + seg(t.ID), nil
	case railyard.LockApplication:
		return "/api/v1/environments/" + seg(t.Environment) + "/applications/" + seg(t.Application) + "/locks/" + seg(t.ID), nil
	case railyard.LockTeam:
		return "/api/v1/environments/" + seg(t.Environment) + "/teams/" + seg(t.Team) + "/locks/" + seg(t.ID), nil
	case railyard.LockGroup:
		return "/api/v1/environment-groups/" + seg(t.Group) + "/locks/" + seg(t.ID), nil
	}
	return "", railyard.Errorf(railyard.EINVALID, "kind %q is not a lock kind: use environment, application, team or environment-group", t.Kind).WithField("kind")
}

// FindLocks returns the matching locks.
func (c *Client) FindLocks(ctx context.Context, filter railyard.LockFilter) ([]*railyard.Lock, error) {
	q := url.Values{}
	setParam(q, "kind", string(filter.Kind))
	setParam(q, "environment", filter.Environment)
	setParam(q, "application", filter.Application)
	setParam(q, "team", filter.Team)
	setParam(q, "id", filter.ID)
	var out lockList
	err := c.do(ctx, "GET", "/api/v1/locks", q, nil, &out)
	return out.Locks, err
}

// Overview returns every application in every environment.
func (c *Client) Overview(ctx context.Context) (*railyard.Overview, error) {
	var ov railyard.Overview
	return &ov, c.do(ctx, "GET", "/api/v1/overview", nil, nil, &ov)
}

// ExportStatus returns how far the Git export lags.
func (c *Client) ExportStatus(ctx context.Context) (*railyard.ExportStatus, error) {
	var st railyard.ExportStatus
	return &st, c.do(ctx, "GET", "/api/v1/export-status", nil, nil, &st)
}

// FindEvents returns one page of matching events, newest first, and the
// id to pass as filter.BeforeID for the next page (0 when there is none).
// filter.Limit 0 means the server's default page size. The API pages
// newest first only, so filter.AfterID is refused with EINVALID.
func (c *Client) FindEvents(ctx context.Context, filter railyard.EventFilter) ([]*railyard.Event, int64, error) {
	if filter.AfterID != 0 {
		return nil, 0, railyard.Errorf(railyard.EINVALID, "the events API pages newest first: use BeforeID, not AfterID").WithField("after")
	}
	q := url.Values{}
	setParam(q, "application", filter.Application)
	setParam(q, "environment", filter.Environment)
	setParam(q, "actor", filter.Actor)
	setParam(q, "kind", filter.Kind)
	setParam(q, "sourceCommitId", filter.SourceCommitID)
	if filter.Since != nil {
		q.Set("since", filter.Since.Format(time.RFC3339Nano))
	}
	if filter.Until != nil {
		q.Set("until", filter.Until.Format(time.RFC3339Nano))
	}
	if filter.Limit != 0 {
		q.Set("limit", strconv.Itoa(filter.Limit))
	}
	if filter.BeforeID != 0 {
		q.Set("before", strconv.FormatInt(filter.BeforeID, 10))
	}
	var out eventList
	if err := c.do(ctx, "GET", "/api/v1/events", q, nil, &out); err != nil {
		return nil, 0, err
	}
	var next int64
	if out.Next != nil {
		next = *out.Next
	}
	return out.Events, next, nil
}

// Batch applies the commands atomically: all of them or, on the first
// failure, none (the error is the failing command's).
func (c *Client) Batch(ctx context.Context, entries []railyard.BatchEntry) ([]*railyard.Result, error) {
	var out batchResponse
	err := c.do(ctx, "POST", "/api/v1/batch", nil, batchRequest{Commands: entries}, &out)
	return out.Results, err
}

// Health reports whether the server is up and its store reachable
// (GET /readyz).
func (c *Client) Health(ctx context.Context) error {
	var out statusResponse
	return c.do(ctx, "GET", "/readyz", nil, nil, &out)
}

// do sends one request with body (if not nil) as JSON and decodes a 2xx
// answer into out, or an error answer into a *railyard.Error.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	u := c.baseURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := nethttp.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.Actor.Name != "" {
		req.Header.Set(headerAuthorName, base64.StdEncoding.EncodeToString([]byte(c.Actor.Name)))
		req.Header.Set(headerAuthorEmail, base64.StdEncoding.EncodeToString([]byte(c.Actor.Email)))
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = nethttp.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeErrorResponse(resp)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode answer of %s %s: %w", method, path, err)
	}
	return nil
}

// decodeErrorResponse turns an error answer into a *railyard.Error. A
// body that is not Railyard's error JSON (a proxy's HTML page, say)
// becomes EINTERNAL naming the status, so callers always get a code.
func decodeErrorResponse(resp *nethttp.Response) error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyBytes))
	var e railyard.Error
	if err := json.Unmarshal(data, &e); err == nil && e.Code != "" {
		return &e
	}
	snippet := strings.TrimSpace(string(data))
	if len(snippet) > 200 {
		snippet = snippet[:200] + "…"
	}
	if snippet == "" {
		return railyard.Errorf(railyard.EINTERNAL, "server answered %s", resp.Status)
	}
	return railyard.Errorf(railyard.EINTERNAL, "server answered %s: %s", resp.Status, snippet)
}

// seg escapes one path segment. "." and ".." are escaped too, because
// they would otherwise be removed by path cleaning and the request would
// reach a different route instead of being refused as an invalid name.
func seg(s string) string {
	e := url.PathEscape(s)
	if e == "." || e == ".." {
		return strings.ReplaceAll(e, ".", "%2E")
	}
	return e
}

// setParam sets a query parameter when the value is not empty.
func setParam(q url.Values, key, value string) {
	if value != "" {
		q.Set(key, value)
	}
}
