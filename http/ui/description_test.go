package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	railyard "github.com/railyard-cd/railyard"
)

// TestLargeEventStaysSmall renders the pages that show an unlock which
// deployed 400 queued applications: each shows the event's summary,
// with at most 20 of the applications to unfold, so the application
// page stays small (it was 365 KB for 3,856 applications).
func TestLargeEventStaysSmall(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.must(alice, &railyard.PutEnvironment{Name: "env-02", Config: railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}})
	f.must(alice, &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "env-02", ID: "db-migration"}, Message: "DB migration"})
	var cmds []railyard.Command
	for i := range 400 {
		app := fmt.Sprintf("app-%04d", i)
		cmds = append(cmds, &railyard.CreateRelease{Application: app, Version: 2, DisplayVersion: "1.2", Team: "shop",
			Manifests: map[string]string{"env-02": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + app + "\n"}})
	}
	for len(cmds) > 0 {
		n := min(len(cmds), railyard.MaxBatchCommands)
		if _, err := f.eng.Apply(context.Background(), alice, cmds[:n]...); err != nil {
			t.Fatal(err)
		}
		cmds = cmds[n:]
	}
	f.must(bob, &railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "env-02", ID: "db-migration"}})

	c := f.client()
	want := `<details class="desc"><summary>Unlock env-02 (db-migration), deploy 400 queued applications</summary><ul>` +
		`<li>Deploy queued app-0000 2 (1.2) to env-02</li><li>Deploy queued app-0001 2 (1.2) to env-02</li>`
	res := c.get("/apps/app-0000")
	wantStatus(t, "application page", res, http.StatusOK)
	wantContains(t, "application page", res.body, want, `<li>Deploy queued app-0019 2 (1.2) to env-02</li><li class="more">… and 380 more</li></ul></details>`)
	if len(res.body) > 12<<10 {
		t.Errorf("application page is %d bytes, want at most 12 KiB", len(res.body))
	}
	res = c.get("/history?kind=lock.delete")
	wantStatus(t, "history", res, http.StatusOK)
	wantContains(t, "history", res.body, want)
	if a, b := strings.Count(res.body, "app-0019"), strings.Count(res.body, "app-0020"); a != 1 || b != 0 {
		t.Errorf("history page names app-0019 %d times and app-0020 %d times, want 1 and 0: it shows the first 20 details", a, b)
	}
}
