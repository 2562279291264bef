package railyard

import (
	"fmt"
	"regexp"
)

// Branch rules. A release carries the source branch it was built from;
// an environment may restrict which branches it takes:
//
//   - branchRestriction: a release whose branch does not match can never
//     be deployed there, by anyone, with any lockBehavior. A person asking
//     for it gets EINVALID (400) naming the version: the request is wrong,
//     not the person's rights (EFORBIDDEN is about identity, and another
//     token would not help). Automation skips such releases
//     (SkipBranchRestricted).
//   - upstream.branch (with upstream.latest): only releases whose branch
//     matches are deployed there automatically when they are published;
//     others can still be deployed by hand.
//
// Both are Go regular expressions matched anywhere in the branch name
// (anchor them, "^main$", to match the whole name). A release without a
// branch has the empty branch name.

// compiled returns the compiled regular expression, cached for the
// command (a train checks it for every application).
func (c *commandContext) compiled(expr string) (*regexp.Regexp, error) {
	if re, ok := c.regexps[expr]; ok {
		return re, nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		// Config validation compiles every rule, so this is a stored
		// configuration from before that check.
		return nil, Errorf(EINVALID, "branch rule %q is not a valid regular expression: %v", Truncate(expr, maxQuoted), err)
	}
	if c.regexps == nil {
		c.regexps = make(map[string]*regexp.Regexp)
	}
	c.regexps[expr] = re
	return re, nil
}

// branchRestricted reports whether env's branchRestriction refuses rel.
func (c *commandContext) branchRestricted(env *Environment, rel *Release) (bool, error) {
	if env.Config.BranchRestriction == "" {
		return false, nil
	}
	re, err := c.compiled(env.Config.BranchRestriction)
	if err != nil {
		return false, err
	}
	return !re.MatchString(rel.SourceBranch), nil
}

// upstreamBranchMatches reports whether rel may be deployed to the latest
// environment env automatically under its upstream.branch.
func (c *commandContext) upstreamBranchMatches(env *Environment, rel *Release) (bool, error) {
	if env.Config.Upstream == nil || env.Config.Upstream.Branch == "" {
		return true, nil
	}
	re, err := c.compiled(env.Config.Upstream.Branch)
	if err != nil {
		return false, err
	}
	return re.MatchString(rel.SourceBranch), nil
}

// branchRestrictionError refuses a person's deploy of rel to env.
func branchRestrictionError(env *Environment, rel *Release) error {
	return Errorf(EINVALID, "%s %d cannot be deployed to %s: %s, and %s only takes releases whose branch matches %q (branchRestriction); this cannot be overridden",
		rel.Application, rel.Version, env.Name, describeBranch(rel), env.Name, env.Config.BranchRestriction).WithField("version")
}

// describeBranch says where a release comes from: `it comes from branch "x"`.
func describeBranch(rel *Release) string {
	if rel.SourceBranch == "" {
		return "it has no source branch"
	}
	return fmt.Sprintf("it comes from branch %q", rel.SourceBranch)
}
