package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/railyard-cd/railyard/storetest"
)

// rowNames lists the application names of the grid rows in body.
func rowNames(body string) []string {
	var names []string
	for _, m := range rowNameRE.FindAllStringSubmatch(body, -1) {
		names = append(names, m[1])
	}
	return names
}

var rowNameRE = regexp.MustCompile(`<tr><th scope="row"><a href="/apps/([^"]+)">`)

func serviceNames(from, to int) []string {
	var names []string
	for i := from; i < to; i++ {
		names = append(names, fmt.Sprintf("service-%04d", i))
	}
	return names
}

// TestOverviewRendersTheFirstRowsAndLoadsTheRest checks the overview of
// 700 applications: the page has the first 100 rows and the row that
// loads the next, whose URL answers the next 500 and the row for the
// last 100; the live refresh renders as many rows as the page shows; the
// filter applies to the rows loaded later too; a bad row number is a 400
// naming it.
func TestOverviewRendersTheFirstRowsAndLoadsTheRest(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if err := storetest.SeedOverview(context.Background(), f.db, 700, 3, t0); err != nil {
		t.Fatal(err)
	}
	c := f.client()
	page := c.get("/")
	wantStatus(t, "GET /", page, http.StatusOK)
	if got, want := strings.Join(rowNames(page.body), " "), strings.Join(serviceNames(0, 100), " "); got != want {
		t.Errorf("the page has rows %s, want %s", got, want)
	}
	wantContains(t, "GET /", page.body, "Showing 700 of 700 applications",
		`<tr class="more" data-more="/ui/overview/rows?from=100"><td colspan="4">600 more applications: <a href="/?all=1">show all</a></td></tr>`+"\n</tbody>")

	next := c.get("/ui/overview/rows?from=100")
	wantStatus(t, "GET rows", next, http.StatusOK)
	if got, want := strings.Join(rowNames(next.body), " "), strings.Join(serviceNames(100, 600), " "); got != want {
		t.Errorf("the next rows are %s, want %s", got, want)
	}
	if !strings.HasSuffix(next.body, `<tr class="more" data-more="/ui/overview/rows?from=600"><td colspan="4">100 more applications: <a href="/?all=1">show all</a></td></tr>`+"\n") {
		t.Errorf("the next rows end with %q", next.body[max(0, len(next.body)-200):])
	}
	last := c.get("/ui/overview/rows?from=600")
	if got := rowNames(last.body); len(got) != 100 || got[99] != "service-0699" || strings.Contains(last.body, `class="more"`) {
		t.Errorf("the last rows are %d, ending %v, more row: %v", len(got), got[len(got)-1:], strings.Contains(last.body, `class="more"`))
	}

	live := c.do(liveRequest(t, f.srv.URL+"/", "250"))
	if got := rowNames(live.body); len(got) != 250 || !strings.Contains(live.body, `data-more="/ui/overview/rows?from=250"`) {
		t.Errorf("the live refresh of a page showing 250 rows has %d rows", len(got))
	}
	all := c.get("/?all=1")
	if got := rowNames(all.body); len(got) != 700 || strings.Contains(all.body, `class="more"`) {
		t.Errorf("?all=1 has %d rows", len(got))
	}

	team := c.get("/ui/overview/rows?team=team-03&from=20")
	if got, want := strings.Join(rowNames(team.body), " "), "service-0403 service-0423 service-0443 service-0463 service-0483 service-0503 service-0523 service-0543 service-0563 service-0583 service-0603 service-0623 service-0643 service-0663 service-0683"; got != want {
		t.Errorf("team-03 from its 20th row: %s, want %s", got, want)
	}
	searched := c.get("/?q=service-0")
	wantContains(t, "searched", searched.body, "Showing 700 of 700 applications",
		`<tr class="more" data-more="/ui/overview/rows?from=100&amp;q=service-0"><td colspan="4">600 more applications: <a href="/?all=1&amp;q=service-0">show all</a>`)
	if firstTeam := c.get("/?team=team-03"); len(rowNames(firstTeam.body)) != 35 || strings.Contains(firstTeam.body, `class="more"`) {
		t.Errorf("team-03 shows %d rows, more row: %v", len(rowNames(firstTeam.body)), strings.Contains(firstTeam.body, `class="more"`))
	}

	for _, from := range []string{"", "x", "-1"} {
		bad := c.get("/ui/overview/rows?from=" + from)
		wantStatus(t, "GET rows?from="+from, bad, http.StatusBadRequest)
		wantContains(t, "GET rows?from="+from, bad.body, fmt.Sprintf("from must be a row number (0 or more), got &#34;%s&#34;", from))
	}
}

// liveRequest is the page script's live refresh of a page showing rows.
func liveRequest(t *testing.T, url, rows string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Railyard-Live", "1")
	req.Header.Set("X-Railyard-Rows", rows)
	return req
}
