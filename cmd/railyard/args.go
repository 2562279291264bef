package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// noArgs rejects positional arguments.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("%s takes no arguments, got %q", cmd.CommandPath(), strings.Join(args, " "))
	}
	return nil
}

// exactArgs requires one positional argument per name, and says which are
// missing by name.
func exactArgs(names ...string) cobra.PositionalArgs {
	return rangeArgs(len(names), names...)
}

// rangeArgs requires the first min of the named positional arguments and
// allows the rest.
func rangeArgs(min int, names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < min:
			return usageErrorf("%s needs %s: missing %s", cmd.CommandPath(), argList(names[:min]), argList(names[len(args):min]))
		case len(args) > len(names):
			return usageErrorf("%s takes at most %d argument%s (%s), got %d: %q", cmd.CommandPath(), len(names), plural(len(names)), argList(names), len(args), strings.Join(args, " "))
		}
		for i, a := range args {
			if strings.TrimSpace(a) == "" {
				return usageErrorf("%s: %s must not be empty", cmd.CommandPath(), argName(names[i]))
			}
		}
		return nil
	}
}

func argName(name string) string { return "<" + name + ">" }

func argList(names []string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = argName(n)
	}
	return strings.Join(parts, " ")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// parsePositive parses a positive integer argument such as a version.
func parsePositive(name, value string) (int64, error) {
	var v int64
	if _, err := fmt.Sscan(value, &v); err != nil || v <= 0 || fmt.Sprint(v) != value {
		return 0, usageErrorf("%s must be a positive integer, got %q", name, value)
	}
	return v, nil
}
