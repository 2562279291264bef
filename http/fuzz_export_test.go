package http

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	nethttp "net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	railyard "github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/argocd"
	"github.com/railyard-cd/railyard/gitrepo"
	"github.com/railyard-cd/railyard/internal/syncbuf"
	"github.com/railyard-cd/railyard/sqlite"
)

// The fuzz targets of issue 10's invariant "everything accepted can be
// exported": random bodies go through the real HTTP handlers of a real
// server over real SQLite, and whenever the server answers 2xx the events
// must export through the real Git exporter into a bare repository that
// passes `git fsck --strict`, one commit per event, and a restarted
// exporter must find nothing left to write (a NUL in a commit message
// once hid the Railyard-Event trailer, and every restart wrote the event
// again). A 5xx is a failure too: input may be refused, never crash.
//
// Every input starts from the same state, copied from a template made
// once per run (environments with every Argo CD setting, two released
// applications, all exported), so that a failing input reproduces alone.
// The corpus in testdata/fuzz/<name> replays in the normal test run.

// fuzzRoutes are the JSON routes the records of FuzzJSONAcceptedIsExportable
// address, by index.
var fuzzRoutes = []struct{ method, path string }{
	{"POST", "/api/v1/applications/checkout/releases"},
	{"POST", "/api/v1/applications/cart/releases"},
	{"PUT", "/api/v1/environments/qa"},
	{"PUT", "/api/v1/environments/development"},
	{"POST", "/api/v1/applications/checkout/environments/staging/deploy"},
	{"POST", "/api/v1/applications/checkout/environments/development/rollback"},
	{"PUT", "/api/v1/environments/staging/locks/freeze"},
	{"PUT", "/api/v1/environments/development/applications/checkout/locks/hold"},
	{"DELETE", "/api/v1/environments/staging/locks/freeze"},
	{"POST", "/api/v1/environments/staging/release-train"},
	{"POST", "/api/v1/batch"},
	{"PUT", "/environments/staging/locks/kp"},
	{"PUT", "/api/environments/production/releasetrain"},
}

// Record separators of a JSON fuzz input: records are split at 0x1e, and
// a record is a route index byte, an optional actor name ended by 0x1f,
// and the body.
const (
	fuzzRecordSep = 0x1e
	fuzzActorSep  = 0x1f
	// fuzzMaxRecords bounds the requests of one input.
	fuzzMaxRecords = 4
)

// fuzzRequest is one decoded record.
type fuzzRequest struct {
	route    int
	actor    string
	hasActor bool
	body     []byte
}

// parseFuzzInput splits a JSON fuzz input into its requests.
func parseFuzzInput(data []byte) []fuzzRequest {
	var reqs []fuzzRequest
	for _, rec := range bytes.SplitN(data, []byte{fuzzRecordSep}, fuzzMaxRecords) {
		if len(rec) == 0 {
			continue
		}
		r := fuzzRequest{route: int(rec[0]) % len(fuzzRoutes), body: rec[1:]}
		if actor, body, ok := bytes.Cut(r.body, []byte{fuzzActorSep}); ok {
			r.actor, r.hasActor, r.body = string(actor), true, body
		}
		reqs = append(reqs, r)
	}
	return reqs
}

// fuzzRecord encodes a request as a record, for the seeds.
func fuzzRecord(route int, actor, body string) []byte {
	rec := []byte{byte(route)}
	if actor != "" {
		rec = append(append(rec, actor...), fuzzActorSep)
	}
	return append(rec, body...)
}

// fuzzInput joins records into one input.
func fuzzInput(records ...[]byte) []byte {
	return bytes.Join(records, []byte{fuzzRecordSep})
}

// jsonFuzzSeeds are valid and boundary-value inputs of
// FuzzJSONAcceptedIsExportable: each is accepted, or refused for a reason
// the old code missed.
func jsonFuzzSeeds() [][]byte {
	const fullArgo = `"argocd":{"layout":"single-file","destination":{"name":"prod","server":"https://k8s.example.com:6443","namespace":"shop","appProjectNamespace":"shop-*"},` +
		`"syncWindows":[{"kind":"deny","schedule":"TZ=Europe/Berlin 0 22 * * *","duration":"8h","applications":["qa-*"]}],"accessList":[{"group":"","kind":"Namespace"}],` +
		`"ignoreDifferences":[{"group":"apps","kind":"Deployment","jsonPointers":["/spec/replicas","/a~1b"],"jqPathExpressions":[".x[] | select(.a == \"b\")"]}],` +
		`"applicationAnnotations":{"example.com/owner":"Platform: #team\n\tline two","1password.com/x":"yes","a":"~"},"syncOptions":["CreateNamespace=true","Validate=false"]}`
	manifest := func(env string) string {
		return `"` + env + `":"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: checkout\ndata:\n  a: \"é ✓ 日本\"\n---\nkind: Service\n"`
	}
	return [][]byte{
		fuzzInput(fuzzRecord(0, "", `{"version":5,"displayVersion":"1.2.3","sourceAuthor":"Bob <bob@example.com>","sourceMessage":"Fix\n\n\tdetails","sourceBranch":"main","ciLink":"https://ci/1","manifests":{`+manifest("development")+`}}`)),
		fuzzInput(fuzzRecord(0, "", `{"version":9007199254740991,"manifests":{`+manifest("staging")+`}}`), fuzzRecord(0, "", `{"manifests":{`+manifest("staging")+`}}`)),
		fuzzInput(fuzzRecord(0, "", `{"version":9223372036854775807,"manifests":{`+manifest("staging")+`}}`), fuzzRecord(0, "", `{"manifests":{`+manifest("staging")+`}}`)),
		fuzzInput(fuzzRecord(0, "", `{"displayVersion":"1.2\u0000","manifests":{`+manifest("development")+`}}`)),
		fuzzInput(fuzzRecord(0, "", `{"VERSION":7,"version":8,"manifests":{`+manifest("development")+`}}`)),
		fuzzInput(fuzzRecord(1, "Zoë Müller", `{"team":"shop","undeploy":true,"manifests":{"development":""}}`)),
		fuzzInput(fuzzRecord(2, "", `{"upstream":{"environment":"staging"},`+fullArgo+`,"deployWindows":[{"kind":"allow","schedule":"0 9 * * 1-5","duration":"8h","timeZone":"America/Argentina/Buenos_Aires"}],"releaseTrains":[{"schedule":"@daily","timeZone":"Asia/Tokyo"}]}`),
			fuzzRecord(12, "", ``), fuzzRecord(9, "", `{}`)),
		fuzzInput(fuzzRecord(3, "", `{"upstream":{"latest":true},"argocd":{"destination":{"server":"https://kubernetes.default.svc"},"applicationAnnotations":{"`+strings.Repeat("k", 2000)+`":"x"}}}`)),
		fuzzInput(fuzzRecord(3, "", `{"upstream":{"latest":true},`+fullArgo+`}`), fuzzRecord(0, "", `{"manifests":{`+manifest("development")+`}}`)),
		fuzzInput(fuzzRecord(4, "", `{"version":1,"lockBehavior":"ignore"}`), fuzzRecord(0, "", `{"version":2,"manifests":{`+manifest("development")+`}}`), fuzzRecord(5, "", `{}`)),
		fuzzInput(fuzzRecord(6, "Eve", `{"message":"Freeze\n\tuntil Monday ✓","ciLink":"https://ci/2","expiresAt":"2030-01-02T15:04:05Z"}`), fuzzRecord(0, "", `{"manifests":{`+manifest("staging")+`}}`), fuzzRecord(8, "", ``)),
		fuzzInput(fuzzRecord(7, "\x1b[31mEve", `{"message":"hold"}`)),
		fuzzInput(fuzzRecord(11, "", `{"message":"kp","suggestedLifeTime":"2d","unknown":1}`)),
		fuzzInput(fuzzRecord(10, "", `{"commands":[{"kind":"environment.put","params":{"name":"qa","config":{"upstream":{"environment":"staging"}}}},`+
			`{"kind":"release.create","params":{"application":"search","version":3,"manifests":{`+manifest("qa")+`}}},`+
			`{"kind":"deploy","params":{"application":"search","environment":"qa","version":3}}]}`)),
		fuzzInput(fuzzRecord(0, "", `{"manifests":{"development":"metadata:\n  name: a\n  name: b\n"}}`)),
	}
}

func FuzzJSONAcceptedIsExportable(f *testing.F) {
	for _, seed := range jsonFuzzSeeds() {
		f.Add(seed)
	}
	tmpl := newExportTemplate(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		t.Parallel() // the corpus replays on every core; no effect when fuzzing
		fx := tmpl.start(t)
		accepted := false
		for _, r := range parseFuzzInput(data) {
			route := fuzzRoutes[r.route]
			header := map[string]string{"Content-Type": "application/json"}
			if r.hasActor {
				header["author-name"] = base64.StdEncoding.EncodeToString([]byte(r.actor))
			}
			accepted = fx.send(route.method, route.path, header, r.body) || accepted
		}
		if accepted {
			fx.checkExport()
		}
	})
}

// fuzzBoundary is the multipart boundary of FuzzMultipartAcceptedIsExportable.
const fuzzBoundary = "railyard-fuzz-boundary"

// fuzzForm encodes a Kuberpult release upload with fuzzBoundary.
func fuzzForm(fields ...string) []byte {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.SetBoundary(fuzzBoundary); err != nil {
		panic(err)
	}
	for i := 0; i+1 < len(fields); i += 2 {
		if strings.HasPrefix(fields[i], "manifests[") {
			fw, err := w.CreateFormFile(fields[i], "manifest.yaml")
			if err != nil {
				panic(err)
			}
			io.WriteString(fw, fields[i+1])
			continue
		}
		if err := w.WriteField(fields[i], fields[i+1]); err != nil {
			panic(err)
		}
	}
	w.Close()
	return buf.Bytes()
}

func FuzzMultipartAcceptedIsExportable(f *testing.F) {
	m := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: checkout\ndata:\n  a: \"é\"\n"
	for _, seed := range [][]byte{
		fuzzForm("application", "checkout", "version", "7", "team", "payments", "source_commit_id", commitA, "source_author", "Bob <bob@example.com>",
			"source_message", "Add a button\n\n\tmore", "source_branch", "main", "display_version", "1.4.2", "ci_link", "https://ci/7",
			"manifests[development]", m, "manifests[staging]", m),
		fuzzForm("application", "checkout", "version", "9007199254740991", "manifests[staging]", m),
		fuzzForm("application", "checkout", "version", "+5", "manifests[staging]", m),
		fuzzForm("application", "checkout", "version", "9223372036854775807", "manifests[staging]", m),
		fuzzForm("application", "checkout", "display_version", "1\x002", "manifests[development]", m),
		fuzzForm("application", "cart", "source_author", "\x1b[2J", "manifests[development]", m),
		fuzzForm("application", "cart", "manifests[development]", "a: 1\na: 2\n"),
		fuzzForm("application", "search", "team", "shop", "previous_commit_id", commitA, "is_prepublish", "false", "manifests[production]", m),
	} {
		f.Add(seed)
	}
	tmpl := newExportTemplate(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		t.Parallel() // the corpus replays on every core; no effect when fuzzing
		fx := tmpl.start(t)
		header := map[string]string{"Content-Type": "multipart/form-data; boundary=" + fuzzBoundary, "author-name": b64("CI")}
		if fx.send("POST", "/release", header, body) {
			fx.checkExport()
		}
	})
}

// exportTemplate is the state every fuzz input starts from: a database
// and its exported manifest repository, copied for each input.
type exportTemplate struct {
	dir string
}

// newExportTemplate seeds a database and exports it.
func newExportTemplate(f testing.TB) *exportTemplate {
	f.Helper()
	tmpl := &exportTemplate{dir: f.TempDir()}
	db := sqlite.NewDB(filepath.Join(tmpl.dir, "railyard.db"))
	if err := db.Open(); err != nil {
		f.Fatal(err)
	}
	eng := railyard.NewEngine(db)
	eng.Now = func() time.Time { return t0 }
	argo := &railyard.ArgoCDConfig{Destination: railyard.ArgoCDDestination{Server: argocd.DefaultServer, Namespace: "shop"},
		ApplicationAnnotations: map[string]string{"example.com/owner": "Platform"}, SyncOptions: []string{"CreateNamespace=true"}}
	cmds := []railyard.Command{
		&railyard.PutEnvironment{Name: "development", Config: railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}, ArgoCD: argo}},
		&railyard.PutEnvironment{Name: "staging", Config: railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "development"}}},
		&railyard.PutEnvironment{Name: "production", Config: railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "staging"}, EnvironmentGroup: "prod"}},
		release(1),
		&railyard.CreateRelease{Application: "cart", Version: 1, Team: "shop", Manifests: map[string]string{"development": manifestDev, "staging": manifestStg}},
	}
	if _, err := eng.Apply(context.Background(), railyard.DefaultActor, cmds...); err != nil {
		f.Fatal(err)
	}
	x := tmpl.exporter(eng, tmpl.dir)
	if err := x.Open(context.Background()); err != nil {
		f.Fatalf("open exporter: %v", err)
	}
	if err := x.Sync(context.Background()); err != nil {
		f.Fatal(err)
	}
	if err := db.Close(); err != nil {
		f.Fatal(err)
	}
	// Every accepted input copies the repository: without git's sample
	// hooks there is a third as much to copy.
	if err := os.RemoveAll(filepath.Join(tmpl.dir, "manifests.git", "hooks")); err != nil {
		f.Fatal(err)
	}
	return tmpl
}

// exporter returns an exporter of eng's events into the manifest
// repository in dir, written in place (serve's default, without a
// remote). Only the template's is opened: Open creates and configures the
// repository, and the copies have that already, which saves four git
// processes per input.
func (tmpl *exportTemplate) exporter(eng *railyard.Engine, dir string) *gitrepo.Exporter {
	return gitrepo.NewExporter(eng, gitrepo.Config{
		Dir:    filepath.Join(dir, "manifests.git"),
		ArgoCD: argocd.Options{RepoURL: "https://git.example.com/manifests.git", TargetRevision: "main"},
		Now:    func() time.Time { return t0 },
	})
}

// exportFixture is one fuzz input's server, database and repository.
type exportFixture struct {
	t    *testing.T
	tmpl *exportTemplate
	dir  string
	eng  *railyard.Engine
	http *httptest.Server
	log  *syncbuf.Buffer
}

// start copies the template's database and serves it. The repository is
// copied only when there is something to export (most inputs are
// refused).
func (tmpl *exportTemplate) start(t *testing.T) *exportFixture {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(tmpl.dir, "railyard.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "railyard.db"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	db := sqlite.NewDB(filepath.Join(dir, "railyard.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fx := &exportFixture{t: t, tmpl: tmpl, dir: dir, log: &syncbuf.Buffer{}}
	fx.eng = railyard.NewEngine(db)
	fx.eng.Now = func() time.Time { return t0.Add(time.Hour) }
	srv := NewServer(fx.eng, Options{Logger: slog.New(slog.NewTextHandler(fx.log, nil))})
	fx.http = httptest.NewServer(srv.Handler())
	t.Cleanup(fx.http.Close)
	return fx
}

// send makes one request and reports whether it was accepted (2xx). An
// error status must be a 4xx with a JSON error that names what is wrong.
func (fx *exportFixture) send(method, path string, header map[string]string, body []byte) bool {
	t := fx.t
	t.Helper()
	req, err := nethttp.NewRequest(method, fx.http.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := fx.http.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return true
	case resp.StatusCode >= 500:
		t.Fatalf("%s %s answered %d: %s\nserver log:\n%s", method, path, resp.StatusCode, data, fx.log.String())
	case resp.StatusCode >= 400 && !bytes.Contains(data, []byte(`"message":`)):
		t.Fatalf("%s %s answered %d without an error message: %s", method, path, resp.StatusCode, data)
	}
	return false
}

// checkExport exports every event, checks the repository, and restarts
// the exporter to check that nothing is written twice.
func (fx *exportFixture) checkExport() {
	t := fx.t
	t.Helper()
	ctx := context.Background()
	repo := filepath.Join(fx.dir, "manifests.git")
	if err := os.CopyFS(repo, os.DirFS(filepath.Join(fx.tmpl.dir, "manifests.git"))); err != nil {
		t.Fatalf("copy the template's repository: %v", err)
	}
	if err := fx.tmpl.exporter(fx.eng, fx.dir).Sync(ctx); err != nil {
		t.Fatalf("an accepted change does not export: %v", err)
	}
	last, err := fx.eng.LastEventID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	commits := strings.Fields(fx.git(repo, "rev-list", "main"))
	if int64(len(commits)) != last {
		t.Fatalf("%d events, %d commits", last, len(commits))
	}
	head := commits[0]
	if out, err := exec.Command("git", "-C", repo, "fsck", "--strict", "--no-progress").CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("git fsck --strict: %v\n%s", err, out)
	}
	// A restart resumes after the newest trailer: it must find every
	// event there and write nothing.
	if err := fx.tmpl.exporter(fx.eng, fx.dir).Sync(ctx); err != nil {
		t.Fatalf("sync after a restart: %v", err)
	}
	if again := fx.git(repo, "rev-parse", "main"); again != head {
		t.Fatalf("a restarted exporter wrote again: main moved from %s to %s", head, again)
	}
	if logs := fx.log.String(); logs != "" {
		t.Fatalf("unexpected server log:\n%s", logs)
	}
}

// git runs git in repo and returns its trimmed output.
func (fx *exportFixture) git(repo string, args ...string) string {
	fx.t.Helper()
	out, err := exec.Command("git", append([]string{"-C", repo}, args...)...).Output()
	if err != nil {
		fx.t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

func TestParseFuzzInput(t *testing.T) {
	t.Parallel()
	got := parseFuzzInput(fuzzInput(fuzzRecord(2, "Zoë", `{"a":1}`), nil, fuzzRecord(len(fuzzRoutes)+1, "", `{}`)))
	want := []fuzzRequest{{route: 2, actor: "Zoë", hasActor: true, body: []byte(`{"a":1}`)}, {route: 1, body: []byte(`{}`)}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
