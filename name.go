package railyard

import (
	"regexp"
)

// Name limits, from the product specification: environment names are
// shorter so that "<env>-<app>" fits a 63-character Kubernetes name.
const (
	MaxApplicationNameLength = 39
	MaxEnvironmentNameLength = 23
	MaxLockIDLength          = 100
	MaxDisplayVersionLength  = 15
)

var (
	dnsLabelRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	lockIDRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)
)

// validateLabel checks a lowercase DNS label of at most max characters.
// Such a name is always one safe path segment: no '/', no '.', not empty.
func validateLabel(field, value string, max int) error {
	if value == "" {
		return Errorf(EINVALID, "%s must not be empty", field).WithField(field)
	}
	if len(value) > max {
		return Errorf(EINVALID, "%s %q is %d characters long; at most %d are allowed", field, Truncate(value, maxQuoted), len(value), max).WithField(field)
	}
	if !dnsLabelRE.MatchString(value) {
		return Errorf(EINVALID, "%s %q is not a valid name: use lowercase letters a-z, digits and '-', starting and ending with a letter or digit", field, Truncate(value, maxQuoted)).WithField(field)
	}
	return nil
}

// ValidateApplicationName checks an application name.
func ValidateApplicationName(name string) error {
	return validateLabel("application", name, MaxApplicationNameLength)
}

// ValidateTeamName checks a team name.
func ValidateTeamName(name string) error {
	return validateLabel("team", name, MaxApplicationNameLength)
}

// ValidateEnvironmentName checks an environment name.
func ValidateEnvironmentName(name string) error {
	return validateLabel("environment", name, MaxEnvironmentNameLength)
}

// ValidateEnvironmentGroupName checks an environment-group name.
func ValidateEnvironmentGroupName(name string) error {
	return validateLabel("environmentGroup", name, MaxEnvironmentNameLength)
}

// ValidateLockID checks a lock id. Ids may contain '.', but the pattern
// requires an alphanumeric first character, so "." and ".." are impossible.
func ValidateLockID(id string) error {
	if id == "" {
		return Errorf(EINVALID, "lock id must not be empty").WithField("lockId")
	}
	if !lockIDRE.MatchString(id) {
		return Errorf(EINVALID, "lock id %q is not valid: start with a letter or digit, then up to %d letters, digits, '.', '_' or '-'", Truncate(id, maxQuoted), MaxLockIDLength-1).WithField("lockId")
	}
	return nil
}
