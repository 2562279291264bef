package railyard

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

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

// sameJSON reports whether a and b have the same JSON form: configs are
// equal when they say the same, whether a list is nil or empty.
func sameJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}
