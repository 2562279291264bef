package railyard

import (
	"fmt"
	"regexp"
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

// ScheduledTrain is a release train into the environment that Railyard's
// scheduler runs every time Schedule fires (a cron expression on the wall
// clock of TimeZone, UTC if empty), optionally for one team.
type ScheduledTrain struct {
	Schedule string `json:"schedule"`
	TimeZone string `json:"timeZone,omitempty"`
	Team     string `json:"team,omitempty"`
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

// ArgoCDConfig holds the Argo CD settings of an environment, with
// Kuberpult's field names.
type ArgoCDConfig struct {
	// Layout is "per-application" (default: one file per Application) or
	// "single-file" (Kuberpult's argocd/v1alpha1/<env>.yaml).
	Layout                 string                   `json:"layout,omitempty"`
	Destination            ArgoCDDestination        `json:"destination"`
	SyncWindows            []ArgoCDSyncWindow       `json:"syncWindows,omitempty"`
	AccessList             []ArgoCDAccessEntry      `json:"accessList,omitempty"`
	IgnoreDifferences      []ArgoCDIgnoreDifference `json:"ignoreDifferences,omitempty"`
	ApplicationAnnotations map[string]string        `json:"applicationAnnotations,omitempty"`
	SyncOptions            []string                 `json:"syncOptions,omitempty"`
}

// Argo CD layouts.
const (
	ArgoCDLayoutPerApplication = "per-application"
	ArgoCDLayoutSingleFile     = "single-file"
)

// ArgoCDDestination is where an environment's Applications deploy to.
type ArgoCDDestination struct {
	Name                 string `json:"name,omitempty"`
	Server               string `json:"server,omitempty"`
	Namespace            string `json:"namespace,omitempty"`
	AppProjectNamespace  string `json:"appProjectNamespace,omitempty"`
	ApplicationNamespace string `json:"applicationNamespace,omitempty"`
}

// ArgoCDSyncWindow is an Argo CD sync window on the environment's AppProject.
type ArgoCDSyncWindow struct {
	Kind         string   `json:"kind"`
	Schedule     string   `json:"schedule"`
	Duration     string   `json:"duration"`
	Applications []string `json:"applications,omitempty"`
}

// ArgoCDAccessEntry is one cluster resource kind the AppProject may manage.
type ArgoCDAccessEntry struct {
	Group string `json:"group"`
	Kind  string `json:"kind"`
}

// ArgoCDIgnoreDifference is one ignoreDifferences entry of the Applications.
type ArgoCDIgnoreDifference struct {
	Group                 string   `json:"group,omitempty"`
	Kind                  string   `json:"kind"`
	Name                  string   `json:"name,omitempty"`
	Namespace             string   `json:"namespace,omitempty"`
	JSONPointers          []string `json:"jsonPointers,omitempty"`
	JQPathExpressions     []string `json:"jqPathExpressions,omitempty"`
	ManagedFieldsManagers []string `json:"managedFieldsManagers,omitempty"`
}

// DeployWindow allows or denies automatic deployments during a recurring
// period: from each time Schedule fires, for Duration, in TimeZone.
type DeployWindow struct {
	Kind     string `json:"kind"`
	Schedule string `json:"schedule"`
	Duration string `json:"duration"`
	TimeZone string `json:"timeZone,omitempty"`
}

// Deploy window kinds.
const (
	DeployWindowAllow = "allow"
	DeployWindowDeny  = "deny"
)

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

func (st ScheduledTrain) validate(field string, up *Upstream) error {
	if up == nil {
		return Errorf(EINVALID, "%s: a scheduled release train needs an upstream (upstream.environment or upstream.latest) to take versions from", field).WithField(field)
	}
	if err := validateSchedule(field, st.Schedule, st.TimeZone); err != nil {
		return err
	}
	if st.Team != "" {
		if err := ValidateTeamName(st.Team); err != nil {
			return Errorf(EINVALID, "%s.%s", field, ErrorMessage(err)).WithField(field + ".team")
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
		return Errorf(EINVALID, "%s %q is not an IANA time zone such as \"Europe/Berlin\"", field, truncateForMessage(zone)).WithField(field)
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

func (w DeployWindow) validate(field string) error {
	if w.Kind != DeployWindowAllow && w.Kind != DeployWindowDeny {
		return Errorf(EINVALID, "%s.kind %q is not valid: use \"allow\" or \"deny\"", field, truncateForMessage(w.Kind)).WithField(field + ".kind")
	}
	if err := validateSchedule(field, w.Schedule, w.TimeZone); err != nil {
		return err
	}
	d, err := time.ParseDuration(w.Duration)
	if err != nil || d <= 0 {
		return Errorf(EINVALID, "%s.duration %q is not a positive duration such as \"2h\" or \"90m\"", field, truncateForMessage(w.Duration)).WithField(field + ".duration")
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
