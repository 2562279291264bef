package ui_test

import (
	"net/http"
	"testing"

	"github.com/railyard-cd/railyard/internal/golden"
)

func TestOverviewRendersSeededData(t *testing.T) {
	f := newFixture(t).seed()
	res := f.client().get("/")
	wantStatus(t, "GET /", res, http.StatusOK)
	wantContains(t, "overview", res.body,
		`<a href="/apps/checkout">checkout</a>`, `<a href="/envs/jp-prod">jp-prod</a>`,
		"Showing 3 of 3 applications")
	golden.Equal(t, "testdata/overview_checkout_row.html", fragment(t, res.body, `<tr><th scope="row"><a href="/apps/checkout">`, "</tr>"))
	golden.Equal(t, "testdata/overview_head.html", fragment(t, res.body, "<thead>", "</thead>"))
}

func TestEveryPageRenders(t *testing.T) {
	f := newFixture(t).seed()
	c := f.client()
	for _, tc := range []struct {
		path      string
		fragments []string
	}{
		{"/", []string{"Overview"}},
		{"/?team=shop", []string{"Showing 1 of 3 applications of team <strong>shop</strong>", `href="/apps/cart"`}},
		{"/?q=CHECK", []string{"Showing 1 of 3", `href="/apps/checkout"`}},
		{"/apps/checkout", []string{"Roll back to", "Promote from staging (2 (1.1.0))", "db-migration", "Fix rounding", "https://ci.example.com/build/2"}},
		{"/envs/staging", []string{"Release train", "Prognosis:", `id="run-train"`, "db-migration"}},
		{"/envs/jp-prod", []string{"jp-cluster", "^main$", "Golden week freeze"}},
		{"/envs/de-prod", []string{"0 22 * * *", "Europe/Berlin", "Shop audit"}},
		{"/envs/development", []string{"every new release"}},
		{"/locks", []string{"3 of 3 locks", "Golden week freeze", "Shop audit", "Migrating the orders table"}},
		{"/locks?kind=team", []string{"1 of 3 locks", "Shop audit"}},
		{"/history", []string{"Release checkout", "Lock"}},
		{"/history?app=cart&kind=release.create", []string{"Release cart"}},
		{"/history?commit=5a5a5a5a", []string{"Where is <code>5a5a5a5a</code> deployed?", "running", `<a href="/apps/checkout">checkout</a>`}},
		{"/ui/identity", []string{"Who are you?", `name="email"`}},
	} {
		res := c.get(tc.path)
		wantStatus(t, "GET "+tc.path, res, http.StatusOK)
		wantContains(t, "GET "+tc.path, res.body, tc.fragments...)
	}
}
