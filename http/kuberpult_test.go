package http

import (
	"bytes"
	"mime/multipart"
	"strings"
	"testing"
	"time"

	railyard "github.com/railyard-cd/railyard"
)

// formPart is one part of a multipart upload; parts with a file name are
// written as files, the way Kuberpult's client writes manifests.
type formPart struct {
	name, file, content string
}

// multipartBody encodes parts as multipart/form-data.
func multipartBody(t testing.TB, parts []formPart) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		if p.file != "" {
			fw, err := w.CreateFormFile(p.name, p.file)
			noErr(t, err)
			_, err = fw.Write([]byte(p.content))
			noErr(t, err)
			continue
		}
		noErr(t, w.WriteField(p.name, p.content))
	}
	noErr(t, w.Close())
	return w.FormDataContentType(), buf.Bytes()
}

// kuberpultForm is a release upload as Kuberpult's client sends it.
func kuberpultForm() []formPart {
	return []formPart{
		{"application", "", "checkout"},
		{"manifests[development]", "development-manifest", manifestDev},
		{"manifests[staging]", "staging-manifest", manifestStg},
		{"team", "", "payments"},
		{"source_commit_id", "", commitA},
		{"previous_commit_id", "", "fedcba9876543210fedcba9876543210fedcba98"},
		{"source_author", "", "Bob <bob@example.com>"},
		{"source_message", "", "Add a button\n\nLonger text."},
		{"version", "", "12"},
		{"display_version", "", "1.4.2"},
		{"ci_link", "", "https://ci.example.com/build/12"},
	}
}

// kuberpultHeaders are the headers Kuberpult's client sends besides the
// content type.
var kuberpultHeaders = map[string]string{
	"author-name":   b64("Jörg Müller"),
	"author-email":  b64("joerg@example.com"),
	"Authorization": "Bearer ignored",
	"client-uuid":   "6c5b0e1e-0000-4000-8000-000000000000",
}

// postForm posts parts to path with Kuberpult's headers.
func (ts *testServer) postForm(path string, parts []formPart) answer {
	ts.t.Helper()
	ct, body := multipartBody(ts.t, parts)
	header := map[string]string{"Content-Type": ct}
	for k, v := range kuberpultHeaders {
		header[k] = v
	}
	return ts.do("POST", path, header, bytes.NewReader(body))
}

func TestKuberpultRelease_CreatedSameConflict(t *testing.T) {
	for _, path := range []string{"/release", "/api/release"} {
		t.Run(path, func(t *testing.T) {
			ts := newTestServer(t, Options{})
			ts.seedEnvironments()
			a := ts.postForm(path, kuberpultForm()).wantStatus(t, 201)
			var created kuberpultReleaseResponse
			a.json(t, &created)
			if created.Success == nil || created.AlreadyExistsSame != nil || created.Release.Version != 12 {
				t.Fatalf("got %s, want Success with release 12", a.body)
			}
			if !strings.HasPrefix(string(a.body), `{"Success":{}`) {
				t.Fatalf("got %s, want Kuberpult's {\"Success\":{}} first", a.body)
			}
			rel, err := ts.client.FindRelease(ctx, "checkout", 12)
			noErr(t, err)
			want := railyard.Release{Application: "checkout", Version: 12, Team: "payments", SourceCommitID: commitA,
				SourceAuthor: "Bob <bob@example.com>", SourceMessage: "Add a button\n\nLonger text.", DisplayVersion: "1.4.2",
				CILink: "https://ci.example.com/build/12", Manifests: map[string]string{"development": manifestDev, "staging": manifestStg}}
			if rel.Team != want.Team || rel.SourceCommitID != want.SourceCommitID || rel.SourceAuthor != want.SourceAuthor ||
				rel.SourceMessage != want.SourceMessage || rel.DisplayVersion != want.DisplayVersion || rel.CILink != want.CILink ||
				len(rel.Manifests) != 2 || rel.Manifests["staging"] != manifestStg {
				t.Fatalf("got %+v, want %+v", rel, want)
			}
			events, _, err := ts.client.FindEvents(ctx, railyard.EventFilter{Limit: 1})
			noErr(t, err)
			if events[0].Actor != (railyard.Actor{Name: "Jörg Müller", Email: "joerg@example.com"}) {
				t.Fatalf("got actor %+v, want the decoded author headers", events[0].Actor)
			}

			before := ts.state()
			var same kuberpultReleaseResponse
			ts.postForm(path, kuberpultForm()).wantStatus(t, 200).json(t, &same)
			if same.AlreadyExistsSame == nil || same.Success != nil {
				t.Fatalf("got %+v, want AlreadyExistsSame", same)
			}
			ts.unchanged(before)

			form := kuberpultForm()
			form[2].content = strings.Replace(manifestStg, "staging", "staging-2", 1)
			e := ts.postForm(path, form).wantError(t, 409, railyard.ECONFLICT, "manifests")
			if !strings.Contains(e.Diff, "+  env: staging-2") {
				t.Fatalf("got diff %q, want the changed line", e.Diff)
			}
			form = kuberpultForm()
			form[4].content = "abcdef0"
			ts.postForm(path, form).wantError(t, 409, railyard.ECONFLICT, "source_commit_id")
			ts.unchanged(before)
		})
	}
}

func TestKuberpultRelease_AcceptedAndIgnoredFields(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedEnvironments()
	form := append(kuberpultForm(),
		formPart{"source_branch", "", "main"},
		formPart{"revision", "", "3"},
		formPart{"is_prepublish", "", "false"},
		formPart{"deploy_to_downstream_environments", "", "staging"},
		formPart{"source_repo_url", "", "https://git.example.com/checkout"},
		formPart{"some_future_field", "", "x"},
	)
	ts.postForm("/release", form).wantStatus(t, 201)
	rel, err := ts.client.FindRelease(ctx, "checkout", 12)
	noErr(t, err)
	if rel.SourceBranch != "main" {
		t.Fatalf("got source branch %q, want main", rel.SourceBranch)
	}
	// Without a version, the next one is taken; only application and one
	// manifest are required.
	var res kuberpultReleaseResponse
	ts.postForm("/api/release", []formPart{{"application", "", "checkout"}, {"manifests[staging]", "x", manifestStg}}).wantStatus(t, 201).json(t, &res)
	if res.Release.Version != 13 {
		t.Fatalf("got version %d, want 13", res.Release.Version)
	}
}

func TestKuberpultRelease_BadInput(t *testing.T) {
	ts := newTestServer(t, Options{MaxManifestBytes: 1024, MaxRequestBytes: 8 << 10})
	ts.seedEnvironments()
	ts.postForm("/release", kuberpultForm()).wantStatus(t, 201)
	before := ts.state()
	with := func(extra ...formPart) []formPart { return append(kuberpultForm(), extra...) }
	replace := func(name, content string) []formPart {
		form := kuberpultForm()
		for i := range form {
			if form[i].name == name {
				form[i].content = content
			}
		}
		return form
	}
	cases := []struct {
		name        string
		path        string
		parts       []formPart
		status      int
		code, field string
	}{
		{"signature on /api/release", "/api/release", with(formPart{"signatures[development]", "sig", "-----BEGIN PGP SIGNATURE-----"}), 400, railyard.EINVALID, "signatures[development]"},
		{"signature on /release", "/release", with(formPart{"signatures[development]", "sig", "-----BEGIN PGP SIGNATURE-----"}), 400, railyard.EINVALID, "signatures[development]"},
		{"duplicate text field", "/release", with(formPart{"team", "", "other"}), 400, railyard.EINVALID, "team"},
		{"duplicate ignored field", "/release", with(formPart{"previous_commit_id", "", "abc"}), 400, railyard.EINVALID, "previous_commit_id"},
		{"duplicate application", "/release", with(formPart{"application", "", "checkout"}), 400, railyard.EINVALID, "application"},
		{"duplicate manifest", "/release", with(formPart{"manifests[staging]", "again", manifestStg}), 400, railyard.EINVALID, "manifests[staging]"},
		{"missing application", "/release", kuberpultForm()[1:], 400, railyard.EINVALID, "application"},
		{"no manifests", "/release", []formPart{{"application", "", "checkout"}, {"version", "", "20"}}, 400, railyard.EINVALID, "manifests"},
		{"unknown environment", "/release", with(formPart{"manifests[qa]", "qa", manifestDev}), 400, railyard.EINVALID, "manifests[qa]"},
		{"environment name invalid", "/release", with(formPart{"manifests[../x]", "x", manifestDev}), 400, railyard.EINVALID, "manifests[../x]"},
		{"application UPPER", "/release", replace("application", "Checkout"), 400, railyard.EINVALID, "application"},
		{"application ..", "/release", replace("application", ".."), 400, railyard.EINVALID, "application"},
		{"application a/b", "/release", replace("application", "a/b"), 400, railyard.EINVALID, "application"},
		{"application unicode", "/release", replace("application", "chäckout"), 400, railyard.EINVALID, "application"},
		{"application 200 chars", "/release", replace("application", strings.Repeat("a", 200)), 400, railyard.EINVALID, "application"},
		{"version abc", "/release", replace("version", "abc"), 400, railyard.EINVALID, "version"},
		{"version 0", "/release", replace("version", "0"), 400, railyard.EINVALID, "version"},
		{"version -1", "/release", replace("version", "-1"), 400, railyard.EINVALID, "version"},
		{"commit id short", "/release", replace("source_commit_id", "abc"), 400, railyard.EINVALID, "source_commit_id"},
		{"commit id not hex", "/release", replace("source_commit_id", "xyz1234"), 400, railyard.EINVALID, "source_commit_id"},
		{"display version long", "/release", replace("display_version", "1.2.3-rc.4567890"), 400, railyard.EINVALID, "display_version"},
		{"ci link not a URL", "/release", replace("ci_link", "not a url"), 400, railyard.EINVALID, "ci_link"},
		{"team invalid", "/release", replace("team", "Team A"), 400, railyard.EINVALID, "team"},
		{"text not UTF-8", "/release", replace("source_message", "\xff\xfe"), 400, railyard.EINVALID, "source_message"},
		{"manifest over the limit", "/release", replace("manifests[staging]", strings.Repeat("a: b\n", 300)), 413, railyard.ETOOLARGE, "manifests[staging]"},
		{"body over the limit", "/release", with(formPart{"source_repo_url", "", strings.Repeat("x", 9<<10)}), 413, railyard.ETOOLARGE, "body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts.postForm(c.path, c.parts).wantError(t, c.status, c.code, c.field)
			ts.unchanged(before)
		})
	}
	t.Run("manifest not YAML", func(t *testing.T) {
		form := replace("manifests[staging]", "a: [unclosed\n")
		form[8].content = "13"
		ts.postForm("/release", form).wantError(t, 400, railyard.EINVALID, "manifests[staging]")
		ts.unchanged(before)
	})
	t.Run("signature message", func(t *testing.T) {
		e := ts.postForm("/release", with(formPart{"signatures[development]", "sig", "x"})).wantError(t, 400, railyard.EINVALID, "signatures[development]")
		if !strings.Contains(e.Message, "signature verification is not configured") {
			t.Fatalf("got %q, want it to say signature verification is not configured", e.Message)
		}
	})
}

func TestKuberpultRelease_MalformedRequests(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedEnvironments()
	before := ts.state()
	ct, body := multipartBody(t, kuberpultForm())
	cases := []struct {
		name        string
		header      map[string]string
		body        string
		status      int
		code, field string
	}{
		{"not multipart", map[string]string{"Content-Type": "application/json"}, `{"application":"checkout"}`, 415, railyard.EUNSUPPORTED, "Content-Type"},
		{"no content type", nil, "application=checkout", 415, railyard.EUNSUPPORTED, "Content-Type"},
		{"url-encoded form", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "application=checkout", 415, railyard.EUNSUPPORTED, "Content-Type"},
		{"no boundary", map[string]string{"Content-Type": "multipart/form-data"}, string(body), 400, railyard.EINVALID, "Content-Type"},
		{"wrong boundary", map[string]string{"Content-Type": "multipart/form-data; boundary=nope"}, string(body), 400, railyard.EINVALID, "body"},
		{"truncated", map[string]string{"Content-Type": ct}, string(body[:len(body)/2]), 400, railyard.EINVALID, "body"},
		{"garbage part header", map[string]string{"Content-Type": "multipart/form-data; boundary=b"}, "--b\r\nno header line\r\n\r\nx\r\n--b--\r\n", 400, railyard.EINVALID, "body"},
		{"invalid author-name", map[string]string{"Content-Type": ct, "author-name": "not base64!"}, string(body), 400, railyard.EINVALID, "author-name"},
		{"invalid author-email", map[string]string{"Content-Type": ct, "author-name": b64("a"), "author-email": "%%%"}, string(body), 400, railyard.EINVALID, "author-email"},
		{"author-name with newline", map[string]string{"Content-Type": ct, "author-name": b64("a\nb")}, string(body), 400, railyard.EINVALID, "author-name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts.do("POST", "/api/release", c.header, strings.NewReader(c.body)).wantError(t, c.status, c.code, c.field)
			ts.unchanged(before)
		})
	}
}

func TestKuberpultLocks(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedEnvironments()
	ts.seedRelease(release(1))
	jsonHeader := map[string]string{"Content-Type": "application/json", "author-name": b64("Carol"), "author-email": b64("carol@example.com")}
	put := func(path, body string) answer {
		return ts.do("PUT", path, jsonHeader, strings.NewReader(body))
	}
	del := func(path string) answer { return ts.do("DELETE", path, jsonHeader, nil) }
	cases := []struct {
		path   string
		status int
	}{
		{"/environments/staging/locks/freeze", 200},
		{"/environments/staging/applications/checkout/locks/hotfix", 200},
		{"/api/environments/staging/lock/team/payments/audit", 200},
		{"/environment-groups/prod/locks/train", 201},
		{"/api/environments/staging/locks/freeze", 200},
		{"/api/environments/staging/applications/checkout/locks/hotfix", 200},
		{"/environments/staging/lock/team/payments/audit", 200},
		{"/api/environment-groups/prod/locks/train", 201},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			var res railyard.Result
			put(c.path, `{"message":"hold","ciLink":"https://ci.example.com/7","unknownField":1}`).wantStatus(t, c.status).json(t, &res)
			if len(res.Locks) != 1 || res.Locks[0].Message != "hold" || res.Locks[0].CreatedBy.Name != "Carol" || res.Locks[0].ExpiresAt != nil {
				t.Fatalf("got %+v, want one lock by Carol without expiry", res.Locks)
			}
			del(c.path).wantStatus(t, 200)
			if n := len(ts.state().Locks); n != 0 {
				t.Fatalf("got %d locks after DELETE, want 0", n)
			}
		})
	}
}

func TestKuberpultLocks_SuggestedLifeTime(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedEnvironments()
	for _, c := range []struct {
		lifetime string
		want     time.Duration
	}{{"30m", 30 * time.Minute}, {"4h", 4 * time.Hour}, {"2d", 48 * time.Hour}, {"1w", 7 * 24 * time.Hour}} {
		var res railyard.Result
		ts.doJSON("PUT", "/environments/staging/locks/l"+c.lifetime, `{"message":"m","suggestedLifeTime":"`+c.lifetime+`"}`).wantStatus(t, 200).json(t, &res)
		if got := res.Locks[0].ExpiresAt; got == nil || !got.Equal(t0.Add(c.want)) {
			t.Fatalf("suggestedLifeTime %s: got expiry %v, want %v", c.lifetime, got, t0.Add(c.want))
		}
	}
}

func TestKuberpultLocks_BadInput(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedEnvironments()
	ts.seedRelease(release(1))
	before := ts.state()
	cases := []struct {
		name, method, path, contentType, body string
		status                                int
		code, field                           string
	}{
		{"text/plain", "PUT", "/environments/staging/locks/x", "text/plain", `{"message":"m"}`, 415, railyard.EUNSUPPORTED, "Content-Type"},
		{"no content type", "PUT", "/environments/staging/locks/x", "", `{"message":"m"}`, 415, railyard.EUNSUPPORTED, "Content-Type"},
		{"form", "PUT", "/environment-groups/prod/locks/x", "application/x-www-form-urlencoded", `message=m`, 415, railyard.EUNSUPPORTED, "Content-Type"},
		{"no message", "PUT", "/environments/staging/locks/x", "application/json", `{}`, 400, railyard.EINVALID, "message"},
		{"empty body", "PUT", "/environments/staging/locks/x", "application/json", ``, 400, railyard.EINVALID, "body"},
		{"not JSON", "PUT", "/environments/staging/locks/x", "application/json", `{"message":`, 400, railyard.EINVALID, "body"},
		{"message not a string", "PUT", "/environments/staging/locks/x", "application/json", `{"message":1}`, 400, railyard.EINVALID, "message"},
		{"bad lifetime", "PUT", "/environments/staging/locks/x", "application/json", `{"message":"m","suggestedLifeTime":"4 hours"}`, 400, railyard.EINVALID, "suggestedLifeTime"},
		{"zero lifetime", "PUT", "/environments/staging/locks/x", "application/json", `{"message":"m","suggestedLifeTime":"0h"}`, 400, railyard.EINVALID, "suggestedLifeTime"},
		{"unknown team", "PUT", "/api/environments/staging/lock/team/nobody/x", "application/json", `{"message":"m"}`, 404, railyard.ENOTFOUND, "team"},
		{"unknown environment", "PUT", "/environments/qa/locks/x", "application/json", `{"message":"m"}`, 404, railyard.ENOTFOUND, ""},
		{"unknown application", "PUT", "/environments/staging/applications/cart/locks/x", "application/json", `{"message":"m"}`, 404, railyard.ENOTFOUND, ""},
		{"unknown group", "PUT", "/environment-groups/eu/locks/x", "application/json", `{"message":"m"}`, 404, railyard.ENOTFOUND, "group"},
		{"invalid lock id", "PUT", "/environments/staging/locks/_x", "application/json", `{"message":"m"}`, 400, railyard.EINVALID, "lockId"},
		{"delete missing", "DELETE", "/environments/staging/locks/x", "application/json", ``, 404, railyard.ENOTFOUND, "lockId"},
		{"delete missing team lock", "DELETE", "/api/environments/staging/lock/team/payments/x", "application/json", ``, 404, railyard.ENOTFOUND, "lockId"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			header := map[string]string{}
			if c.contentType != "" {
				header["Content-Type"] = c.contentType
			}
			ts.do(c.method, c.path, header, strings.NewReader(c.body)).wantError(t, c.status, c.code, c.field)
			ts.unchanged(before)
		})
	}
}

func TestKuberpultManifests(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedEnvironments()
	ts.postForm("/api/application/checkout/release/manifests/latest", nil).wantError(t, 404, railyard.ENOTFOUND, "")
	ts.seedRelease(release(1))
	second := release(2)
	delete(second.Manifests, "production")
	ts.seedRelease(second)
	before := ts.state()

	var got kuberpultManifests
	ts.do("POST", "/api/application/checkout/release/manifests/latest", nil, nil).wantStatus(t, 200).json(t, &got)
	if got.Release.Version != 2 || got.Release.Manifests != nil || len(got.Manifests) != 2 {
		t.Fatalf("got %+v, want release 2 with two manifests beside it", got)
	}
	if m := got.Manifests["staging"]; m.Environment != "staging" || m.Content != manifestStg {
		t.Fatalf("got %+v, want staging's manifest", m)
	}
	got = kuberpultManifests{}
	ts.do("POST", "/api/application/checkout/release/manifests/1", map[string]string{"Content-Type": "application/json"}, strings.NewReader("{}")).wantStatus(t, 200).json(t, &got)
	if got.Release.Version != 1 || len(got.Manifests) != 3 || got.Manifests["production"].Content != manifestProd {
		t.Fatalf("got %+v, want release 1 with three manifests", got)
	}
	ts.do("POST", "/api/application/checkout/release/manifests/3", nil, nil).wantError(t, 404, railyard.ENOTFOUND, "")
	ts.do("POST", "/api/application/checkout/release/manifests/0", nil, nil).wantError(t, 400, railyard.EINVALID, "version")
	ts.do("POST", "/api/application/checkout/release/manifests/newest", nil, nil).wantError(t, 400, railyard.EINVALID, "version")
	ts.do("POST", "/api/application/cart/release/manifests/latest", nil, nil).wantError(t, 404, railyard.ENOTFOUND, "")
	ts.do("POST", "/api/application/Cart/release/manifests/latest", nil, nil).wantError(t, 400, railyard.EINVALID, "application")
	ts.unchanged(before)
}
