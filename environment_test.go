package railyard_test

import (
	"strings"
	"testing"

	"github.com/railyard-cd/railyard"
)

func TestSortEnvironments(t *testing.T) {
	env := func(name, upstream, group string) *railyard.Environment {
		e := &railyard.Environment{Name: name}
		e.Config.EnvironmentGroup = group
		if upstream == "*" {
			e.Config.Upstream = &railyard.Upstream{Latest: true}
		} else if upstream != "" {
			e.Config.Upstream = &railyard.Upstream{Environment: upstream}
		}
		return e
	}
	envs := []*railyard.Environment{
		env("production", "staging", ""), env("jp-prod", "staging", "prod"), env("de-prod", "staging", "prod"),
		env("staging", "development", ""), env("adhoc", "", ""), env("development", "*", ""), env("qa", "development", ""),
	}
	railyard.SortEnvironments(envs)
	var names []string
	for _, e := range envs {
		names = append(names, e.Name)
	}
	assertEqual(t, "order", strings.Join(names, ","), "adhoc,development,qa,staging,production,de-prod,jp-prod")
}
