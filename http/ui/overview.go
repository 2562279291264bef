package ui

import (
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	railyard "github.com/railyard-cd/railyard"
)

// overviewView is the data of the overview: the applications ×
// environments grid.
type overviewView struct {
	*page
	// Team and Query are the filter and search, from the URL.
	Team, Query string
	Teams       []string
	// Groups is the header row of environment groups; nil when no
	// environment is in a group.
	Groups []groupHeader
	Envs   []overviewEnv
	Rows   []overviewRow
	// Body is the rows' markup (see gridRowsHTML).
	Body template.HTML
	// Total counts the applications, Matching those that match the
	// filter; Rows are those of them from From on.
	Total, Matching, From int
}

// groupHeader is one cell of the group header row: consecutive
// environments of the same group ("" for none).
type groupHeader struct {
	Name string
	Span int
}

// overviewEnv is one column.
type overviewEnv struct {
	Name     string
	Upstream string
	Locks    int
}

// overviewRow is one application.
type overviewRow struct {
	Name, Team string
	Cells      []overviewCell
}

// overviewCell is one application in one environment, with every string
// computed in Go: the grid has ten thousand cells, and the template only
// joins them.
type overviewCell struct {
	Env string
	// Version and Queued are the labels of the running and the queued
	// version (railyard.VersionLabel), empty when there is none.
	Version string
	Queued  string
	Ago     string
	Locks   []lockMarker
}

// lockMarker is a lock shown in a cell: an icon, a short label, and the
// message on hover and focus.
type lockMarker struct {
	Class, Label, Tip string
	// HTML is the marker's markup, written once per lock.
	HTML string
}

// firstRows is how many rows the overview page renders; the page script
// loads the rest in chunks of moreRows as the reader scrolls toward them
// (GET /ui/overview/rows). At 6,000 applications in 50 environments the
// whole grid is 300,000 cells and 30 MB of HTML, which Chromium needs
// seconds to parse and lay out; the first screen is a few hundred KiB.
const (
	firstRows = 100
	moreRows  = 500
)

// handleOverview renders GET /: the first rows of the grid, or, for the
// live refresh, as many as the page shows (X-Railyard-Rows), or every row
// with ?all=1 (the link for browsers without the script).
func (h *Handler) handleOverview(w http.ResponseWriter, r *http.Request, p *page) error {
	ctx := r.Context()
	if err := h.loadCommon(r, p); err != nil {
		return err
	}
	shown := firstRows
	if n, err := strconv.Atoi(r.Header.Get("X-Railyard-Rows")); err == nil && n > shown {
		shown = n
	}
	if r.URL.Query().Get("all") == "1" {
		shown = math.MaxInt
	}
	v, err := h.overviewView(r, p, 0, shown)
	if err != nil {
		return err
	}
	v.Body = gridRowsHTML(v.Rows)
	envLocks, err := h.engine.FindLocks(ctx, railyard.LockFilter{Kind: railyard.LockEnvironment})
	if err != nil {
		return err
	}
	for i := range v.Envs {
		v.Envs[i].Locks = countLocks(envLocks, v.Envs[i].Name, p.Now)
	}
	return h.render(w, r, "overview", v, p)
}

// handleOverviewRows answers GET /ui/overview/rows?from=N (with the
// overview's team and q): the grid's rows from the N-th matching
// application on, at most moreRows of them, followed by the row that
// loads the next ones if any remain.
func (h *Handler) handleOverviewRows(w http.ResponseWriter, r *http.Request, p *page) error {
	from, err := strconv.Atoi(r.URL.Query().Get("from"))
	if err != nil || from < 0 {
		return railyard.Errorf(railyard.EINVALID, "from must be a row number (0 or more), got %q",
			railyard.Truncate(r.URL.Query().Get("from"), 40)).WithField("from")
	}
	v, err := h.overviewView(r, p, from, moreRows)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(string(gridRowsHTML(v.Rows)))
	writeMoreRow(&b, v)
	return h.writeHTML(w, r, b.String())
}

// overviewView builds the grid's view with the rows [from, from+n) of
// the matching applications.
func (h *Handler) overviewView(r *http.Request, p *page, from, n int) (*overviewView, error) {
	ctx := r.Context()
	ov, err := h.engine.Overview(ctx)
	if err != nil {
		return nil, err
	}
	p.Title, p.Nav = "Overview", "overview"
	v := &overviewView{page: p, Team: r.URL.Query().Get("team"), Query: strings.TrimSpace(r.URL.Query().Get("q")),
		Total: len(ov.Applications), From: from}
	v.Teams = teamsOf(ov)
	v.Groups = groupHeaders(ov.Environments)
	for _, env := range ov.Environments {
		v.Envs = append(v.Envs, overviewEnv{Name: env.Name, Upstream: upstreamLabel(env)})
	}
	var matching []*railyard.OverviewApplication
	for _, app := range ov.Applications {
		if v.matches(app) {
			matching = append(matching, app)
		}
	}
	v.Matching = len(matching)
	from = min(from, len(matching))
	shown := matching[from : from+min(n, len(matching)-from)]
	apps, err := h.engine.FindApplications(ctx)
	if err != nil {
		return nil, err
	}
	display, err := h.releases.displayVersions(ctx, h.engine, apps, &railyard.Overview{Environments: ov.Environments, Applications: shown})
	if err != nil {
		return nil, err
	}
	markers := newMarkerCache()
	for _, app := range shown {
		v.Rows = append(v.Rows, v.row(app, ov.Environments, display[app.Name], markers))
	}
	return v, nil
}

// MoreURL is where the rows after those shown are loaded from; "" when
// every matching row is shown.
func (v *overviewView) MoreURL() string {
	next := v.From + len(v.Rows)
	if next >= v.Matching {
		return ""
	}
	q := url.Values{"from": {strconv.Itoa(next)}}
	if v.Team != "" {
		q.Set("team", v.Team)
	}
	if v.Query != "" {
		q.Set("q", v.Query)
	}
	return "/ui/overview/rows?" + q.Encode()
}

// MoreRow is the markup of the row that loads the next rows, if any
// remain (see writeMoreRow).
func (v *overviewView) MoreRow() template.HTML {
	var b strings.Builder
	writeMoreRow(&b, v)
	return template.HTML(b.String())
}

// AllURL shows every matching row, for browsers without the script.
func (v *overviewView) AllURL() string {
	q := url.Values{"all": {"1"}}
	if v.Team != "" {
		q.Set("team", v.Team)
	}
	if v.Query != "" {
		q.Set("q", v.Query)
	}
	return "/?" + q.Encode()
}

// matches applies the team filter and the name search.
func (v *overviewView) matches(app *railyard.OverviewApplication) bool {
	if v.Team != "" && app.Team != v.Team {
		return false
	}
	return v.Query == "" || strings.Contains(app.Name, strings.ToLower(v.Query))
}

// row builds the cells of one application.
func (v *overviewView) row(app *railyard.OverviewApplication, envs []*railyard.Environment, display map[int64]string, markers *markerCache) overviewRow {
	row := overviewRow{Name: app.Name, Team: app.Team, Cells: make([]overviewCell, len(envs))}
	for i, env := range envs {
		c := app.Environments[env.Name]
		cell := overviewCell{Env: env.Name}
		if c == nil {
			row.Cells[i] = cell
			continue
		}
		if c.Version != nil {
			cell.Version = railyard.VersionLabel(*c.Version, display[*c.Version])
		}
		if c.QueuedVersion != nil {
			cell.Queued = railyard.VersionLabel(*c.QueuedVersion, display[*c.QueuedVersion])
		}
		if c.DeployedAt != nil {
			cell.Ago = ago(v.Now, *c.DeployedAt)
		}
		if len(c.Locks) > 0 {
			cell.Locks = make([]lockMarker, len(c.Locks))
			for j, l := range c.Locks {
				cell.Locks[j] = markers.get(l)
			}
		}
		row.Cells[i] = cell
	}
	return row
}

// markerCache builds each lock's marker once: an environment lock appears
// in every row.
type markerCache map[*railyard.Lock]lockMarker

func newMarkerCache() *markerCache {
	m := markerCache{}
	return &m
}

func (m *markerCache) get(l *railyard.Lock) lockMarker {
	if mk, ok := (*m)[l]; ok {
		return mk
	}
	mk := lockMarker{Class: lockKindClass(l.Kind), Label: shortLockLabel(l.Kind), Tip: lockTip(l)}
	mk.HTML = markerHTML(mk.Class, mk.Label, mk.Tip)
	(*m)[l] = mk
	return mk
}

// lockTip says everything about a lock in one line.
func lockTip(l *railyard.Lock) string {
	var b strings.Builder
	b.WriteString(lockKindLabel(l.Kind))
	b.WriteString(` "` + l.ID + `"`)
	if l.Kind == railyard.LockTeam {
		b.WriteString(" on team " + l.Team)
	}
	b.WriteString(" by " + l.CreatedBy.Name + ": " + firstLine(l.Message))
	if l.ExpiresAt != nil {
		b.WriteString(" (until " + utcLabel(*l.ExpiresAt) + ")")
	}
	return b.String()
}

// teamsOf lists the teams of the applications, sorted.
func teamsOf(ov *railyard.Overview) []string {
	var teams []string
	for _, a := range ov.Applications {
		if a.Team != "" {
			teams = append(teams, a.Team)
		}
	}
	slices.Sort(teams)
	return slices.Compact(teams)
}

// groupHeaders joins consecutive environments of the same group; nil if
// no environment is in a group.
func groupHeaders(envs []*railyard.Environment) []groupHeader {
	var hs []groupHeader
	grouped := false
	for _, e := range envs {
		g := e.Config.EnvironmentGroup
		grouped = grouped || g != ""
		if n := len(hs); n > 0 && hs[n-1].Name == g {
			hs[n-1].Span++
			continue
		}
		hs = append(hs, groupHeader{Name: g, Span: 1})
	}
	if !grouped {
		return nil
	}
	return hs
}

// upstreamLabel says where an environment's versions come from.
func upstreamLabel(e *railyard.Environment) string {
	switch {
	case e.IsLatest():
		return "every new release"
	case e.UpstreamEnvironment() != "":
		return "from " + e.UpstreamEnvironment()
	}
	return "manual only"
}

// countLocks counts the unexpired locks of env.
func countLocks(locks []*railyard.Lock, env string, now time.Time) int {
	n := 0
	for _, l := range locks {
		if l.Environment == env && !l.Expired(now) {
			n++
		}
	}
	return n
}
