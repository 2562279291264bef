package railyard

import "sort"

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
