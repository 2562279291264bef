package railyard

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/railyard-cd/railyard/internal/cron"
)

// Environment is a place applications are deployed to, with its
// configuration (stored in Git as environments/<env>/config.json).
type Environment struct {
	Name      string            `json:"name"`
	Config    EnvironmentConfig `json:"config"`
	CreatedAt time.Time         `json:"createdAt"`
	UpdatedAt time.Time         `json:"updatedAt"`
}

// EnvironmentConfig is an environment's configuration. Field names follow
// Kuberpult's so that existing configurations can be reused.
type EnvironmentConfig struct {
	Upstream          *Upstream      `json:"upstream,omitempty"`
	EnvironmentGroup  string         `json:"environmentGroup,omitempty"`
	ArgoCD            *ArgoCDConfig  `json:"argocd,omitempty"`
	DeployWindows     []DeployWindow `json:"deployWindows,omitempty"`
	BranchRestriction string         `json:"branchRestriction,omitempty"`
	// ReleaseTrains are release trains Railyard runs into this
	// environment by itself, on a schedule.
	ReleaseTrains []ScheduledTrain `json:"releaseTrains,omitempty"`
}

// Upstream says where an environment's versions come from: every new
// release (Latest) or release trains from another environment.
type Upstream struct {
	Latest      bool   `json:"latest,omitempty"`
	Environment string `json:"environment,omitempty"`
	// Branch, with Latest, limits automatic deployment to releases whose
	// source branch matches this regular expression.
	Branch string `json:"branch,omitempty"`
}

// UpstreamEnvironment returns the name of the environment release trains
// take versions from, or "".
func (e *Environment) UpstreamEnvironment() string {
	if e.Config.Upstream == nil {
		return ""
	}
	return e.Config.Upstream.Environment
}

// IsLatest reports whether every new release is deployed here automatically.
func (e *Environment) IsLatest() bool {
	return e.Config.Upstream != nil && e.Config.Upstream.Latest
}

// Validate checks the configuration on its own (not against other
// environments) and names the first field at fault.
func (c *EnvironmentConfig) Validate() error {
	if err := c.Upstream.validate(); err != nil {
		return err
	}
	if c.EnvironmentGroup != "" {
		if err := ValidateEnvironmentGroupName(c.EnvironmentGroup); err != nil {
			return err
		}
	}
	if err := c.ArgoCD.validate(); err != nil {
		return err
	}
	for i, w := range c.DeployWindows {
		if err := w.validate(fmt.Sprintf("deployWindows[%d]", i)); err != nil {
			return err
		}
	}
	if c.BranchRestriction != "" {
		if err := validateRegexp("branchRestriction", c.BranchRestriction); err != nil {
			return err
		}
	}
	for i, st := range c.ReleaseTrains {
		if err := st.validate(fmt.Sprintf("releaseTrains[%d]", i), c.Upstream); err != nil {
			return err
		}
	}
	return nil
}

func (u *Upstream) validate() error {
	if u == nil {
		return nil
	}
	if u.Latest && u.Environment != "" {
		return Errorf(EINVALID, "upstream: set exactly one of upstream.latest and upstream.environment, not both").WithField("upstream")
	}
	if !u.Latest && u.Environment == "" {
		return Errorf(EINVALID, "upstream: set exactly one of upstream.latest (true) and upstream.environment, or leave out upstream").WithField("upstream")
	}
	if u.Environment != "" {
		if err := validateLabel("upstream.environment", u.Environment, MaxEnvironmentNameLength); err != nil {
			return err
		}
	}
	if u.Branch != "" {
		if !u.Latest {
			return Errorf(EINVALID, "upstream.branch only applies together with upstream.latest").WithField("upstream.branch")
		}
		if err := validateRegexp("upstream.branch", u.Branch); err != nil {
			return err
		}
	}
	return nil
}

// validateSchedule checks the schedule and timeZone fields of a deploy
// window or scheduled train.
func validateSchedule(field, schedule, zone string) error {
	if err := validateTimeZone(field+".timeZone", zone); err != nil {
		return err
	}
	if err := validateLine(field+".schedule", schedule); err != nil {
		return err
	}
	if len(schedule) > maxScheduleBytes {
		return Errorf(EINVALID, "%s.schedule is %d bytes long; at most %d are allowed", field, len(schedule), maxScheduleBytes).WithField(field + ".schedule")
	}
	if _, err := cron.Parse(schedule, zone); err != nil {
		return Errorf(EINVALID, "%s.schedule %q is not a valid cron expression (five fields: minute hour day-of-month month day-of-week): %v", field, schedule, err).WithField(field + ".schedule")
	}
	return nil
}

// maxScheduleBytes bounds a cron expression; real ones are a few dozen
// bytes.
const maxScheduleBytes = 200

// zoneNameRE is the form of IANA time zone names: "UTC", "Europe/Berlin",
// "America/Argentina/Buenos_Aires", "Etc/GMT+5".
var zoneNameRE = regexp.MustCompile(`^[A-Za-z][-A-Za-z0-9_+]*(/[A-Za-z0-9][-A-Za-z0-9_+]*)*$`)

// validateTimeZone checks an optional IANA time zone name. time.LoadLocation
// accepts more than IANA names: "Local" (the server's own zone, which
// changes with the host it runs on), and files of the host's zoneinfo
// directory that are not zones of the IANA database Railyard embeds
// ("localtime", "posixrules", "posix/…", "right/…"), so a window would
// mean something else on another host. Those are refused.
func validateTimeZone(field, zone string) error {
	if zone == "" {
		return nil
	}
	if err := validateLine(field, zone); err != nil {
		return err
	}
	if zone == "Local" || zone == "localtime" {
		return Errorf(EINVALID, "%s %q means the server's own time zone, which depends on the host: name an IANA time zone such as \"Europe/Berlin\", or leave it out for UTC", field, zone).WithField(field)
	}
	hostOnly := zone == "posixrules" || strings.HasPrefix(zone, "posix/") || strings.HasPrefix(zone, "right/")
	if _, err := time.LoadLocation(zone); err != nil || hostOnly || len(zone) > 64 || !zoneNameRE.MatchString(zone) {
		return Errorf(EINVALID, "%s %q is not an IANA time zone such as \"Europe/Berlin\"", field, Truncate(zone, maxQuoted)).WithField(field)
	}
	return nil
}

func validateRegexp(field, expr string) error {
	if len(expr) > 1000 {
		return Errorf(EINVALID, "%s is longer than 1000 characters", field).WithField(field)
	}
	if err := validateLine(field, expr); err != nil {
		return err
	}
	if _, err := regexp.Compile(expr); err != nil {
		return Errorf(EINVALID, "%s %q is not a valid regular expression: %v", field, expr, err).WithField(field)
	}
	return nil
}

// SortEnvironments orders environments the way people read a pipeline:
// along the upstream chains (an environment after its upstream), then by
// environment group, then by name. Environments without an upstream, or
// fed by every new release, come first. Cycles cannot exist (PutEnvironment
// refuses them); an unknown upstream counts as none.
func SortEnvironments(envs []*Environment) {
	byName := make(map[string]*Environment, len(envs))
	for _, e := range envs {
		byName[e.Name] = e
	}
	depth := make(map[string]int, len(envs))
	var depthOf func(e *Environment, seen int) int
	depthOf = func(e *Environment, seen int) int {
		if d, ok := depth[e.Name]; ok {
			return d
		}
		d := 0
		if up, ok := byName[e.UpstreamEnvironment()]; ok && seen < len(envs) {
			d = depthOf(up, seen+1) + 1
		}
		depth[e.Name] = d
		return d
	}
	for _, e := range envs {
		depthOf(e, 0)
	}
	sort.SliceStable(envs, func(i, j int) bool {
		a, b := envs[i], envs[j]
		if depth[a.Name] != depth[b.Name] {
			return depth[a.Name] < depth[b.Name]
		}
		if a.Config.EnvironmentGroup != b.Config.EnvironmentGroup {
			return a.Config.EnvironmentGroup < b.Config.EnvironmentGroup
		}
		return a.Name < b.Name
	})
}

// PutEnvironment creates an environment or replaces its configuration.
type PutEnvironment struct {
	Name   string            `json:"name"`
	Config EnvironmentConfig `json:"config"`
}

// Kind implements Command.
func (*PutEnvironment) Kind() string { return KindEnvironmentPut }

// Validate implements Command.
func (p *PutEnvironment) Validate() error {
	if err := ValidateEnvironmentName(p.Name); err != nil {
		return err
	}
	if p.Config.Upstream != nil && p.Config.Upstream.Environment == p.Name {
		return Errorf(EINVALID, "upstream.environment: %s cannot be its own upstream", p.Name).WithField("upstream.environment")
	}
	return p.Config.Validate()
}

func (p *PutEnvironment) apply(ctx context.Context, c *commandContext) (*Result, error) {
	envs, err := c.environments(ctx)
	if err != nil {
		return nil, err
	}
	if up := p.Config.Upstream; up != nil && up.Environment != "" {
		if _, ok := envs[up.Environment]; !ok {
			return nil, Errorf(EINVALID, "upstream.environment %q does not exist; create it first", up.Environment).WithField("upstream.environment")
		}
	}
	existing := envs[p.Name]
	next := &Environment{Name: p.Name, Config: p.Config, CreatedAt: c.now, UpdatedAt: c.now}
	envs[p.Name] = next
	if cycle := upstreamCycle(envs, p.Name); cycle != "" {
		return nil, Errorf(EINVALID, "upstream.environment: the upstream chain would form a cycle: %s", cycle).WithField("upstream.environment")
	}
	outcome := OutcomeCreated
	if existing != nil {
		if sameJSON(existing.Config, p.Config) {
			return &Result{Outcome: OutcomeUnchanged, Environment: existing}, nil
		}
		next.CreatedAt = existing.CreatedAt
		outcome = OutcomeUpdated
	}
	if err := c.tx.PutEnvironment(ctx, next); err != nil {
		return nil, err
	}
	cfg := p.Config
	c.change(Change{Op: ChangeEnvironmentPut, Environment: p.Name, Config: &cfg})
	if existing == nil {
		c.describe("Create environment %s", p.Name)
	} else {
		c.describe("Update environment %s", p.Name)
	}
	return &Result{Outcome: outcome, Environment: next}, nil
}

// upstreamCycle follows upstream.environment from start and returns the
// cycle as "a → b → a" if it comes back to start, or "".
func upstreamCycle(envs map[string]*Environment, start string) string {
	path := []string{start}
	seen := map[string]bool{start: true}
	for cur := envs[start]; cur != nil; {
		up := cur.UpstreamEnvironment()
		if up == "" {
			return ""
		}
		path = append(path, up)
		if up == start {
			return strings.Join(path, " → ")
		}
		if seen[up] {
			return "" // a cycle that does not involve start predates this change
		}
		seen[up] = true
		cur = envs[up]
	}
	return ""
}

// sameJSON reports whether a and b have the same JSON form: configs are
// equal when they say the same, whether a list is nil or empty.
func sameJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

// DeleteEnvironment deletes an environment with its locks and deployments.
// It is refused while another environment names it as upstream.
type DeleteEnvironment struct {
	Name string `json:"name"`
}

// Kind implements Command.
func (*DeleteEnvironment) Kind() string { return KindEnvironmentDelete }

// Validate implements Command.
func (d *DeleteEnvironment) Validate() error { return ValidateEnvironmentName(d.Name) }

func (d *DeleteEnvironment) apply(ctx context.Context, c *commandContext) (*Result, error) {
	envs, err := c.environments(ctx)
	if err != nil {
		return nil, err
	}
	if _, ok := envs[d.Name]; !ok {
		return nil, Errorf(ENOTFOUND, "environment %q not found", d.Name).WithField("environment")
	}
	for _, name := range slices.Sorted(maps.Keys(envs)) {
		if envs[name].UpstreamEnvironment() == d.Name {
			return nil, Errorf(ECONFLICT, "environment %s is the upstream of %s: change or delete %s first", d.Name, name, name)
		}
	}
	locks, err := c.tx.FindLocks(ctx, LockFilter{Environment: d.Name})
	if err != nil {
		return nil, err
	}
	for _, l := range locks {
		if err := c.deleteLock(ctx, l, "environment deleted"); err != nil {
			return nil, err
		}
	}
	deps, err := c.tx.FindDeployments(ctx, DeploymentFilter{Environment: d.Name})
	if err != nil {
		return nil, err
	}
	for _, dep := range deps {
		if err := c.tx.DeleteDeployment(ctx, dep.Application, d.Name); err != nil {
			return nil, err
		}
		c.change(Change{Op: ChangeDeploymentDelete, Application: dep.Application, Environment: d.Name})
	}
	if err := c.tx.DeleteEnvironment(ctx, d.Name); err != nil {
		return nil, err
	}
	c.change(Change{Op: ChangeEnvironmentDelete, Environment: d.Name})
	c.describe("Delete environment %s", d.Name)
	return &Result{Outcome: OutcomeDeleted}, nil
}

// environment returns an environment, cached for the command; ENOTFOUND
// if it does not exist.
func (c *commandContext) environment(ctx context.Context, name string) (*Environment, error) {
	if e, ok := c.envs[name]; ok {
		return e, nil
	}
	e, err := c.tx.FindEnvironment(ctx, name)
	if err != nil {
		return nil, err
	}
	if c.envs == nil {
		c.envs = make(map[string]*Environment)
	}
	c.envs[name] = e
	return e, nil
}

// environments returns every environment by name.
func (c *commandContext) environments(ctx context.Context) (map[string]*Environment, error) {
	list, err := c.tx.FindEnvironments(ctx)
	if err != nil {
		return nil, err
	}
	envs := make(map[string]*Environment, len(list))
	if c.envs == nil {
		c.envs = make(map[string]*Environment, len(list))
	}
	for _, e := range list {
		envs[e.Name] = e
		c.envs[e.Name] = e
	}
	return envs, nil
}
