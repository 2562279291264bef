package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/railyard-cd/railyard"
)

const (
	deploymentColumns = `application, environment, version, deployed_at, deployed_by_name,
		deployed_by_email, queued_version, queued_at, queued_because`

	findDeploymentSQL = `SELECT ` + deploymentColumns + ` FROM deployments
		WHERE application = ? AND environment = ?`
	putDeploymentSQL = `INSERT INTO deployments (` + deploymentColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (application, environment) DO UPDATE SET
			version = excluded.version, deployed_at = excluded.deployed_at,
			deployed_by_name = excluded.deployed_by_name, deployed_by_email = excluded.deployed_by_email,
			queued_version = excluded.queued_version,
			queued_at = excluded.queued_at, queued_because = excluded.queued_because`
	deleteDeploymentSQL = `DELETE FROM deployments WHERE application = ? AND environment = ?`
)

// FindDeployment returns ENOTFOUND if the application has never been
// deployed or queued in the environment.
func (t *tx) FindDeployment(ctx context.Context, app, env string) (*railyard.Deployment, error) {
	deployments, err := t.findDeployments(ctx, findDeploymentSQL, app, env)
	if err != nil {
		return nil, wrap("find deployment", err)
	}
	if len(deployments) == 0 {
		return nil, deploymentNotFound(app, env)
	}
	return deployments[0], nil
}

// FindDeployments returns matching deployments ordered by application,
// then environment.
func (t *tx) FindDeployments(ctx context.Context, filter railyard.DeploymentFilter) ([]*railyard.Deployment, error) {
	q, args := deploymentsQuery(filter)
	deployments, err := t.findDeployments(ctx, q, args...)
	return deployments, wrap("find deployments", err)
}

// findDeployments runs a deployments query. The overview reads every
// deployment (10,000 for 1,000 applications in 10 environments), so rows
// are scanned into one reused deploymentRow.
func (t *tx) findDeployments(ctx context.Context, q string, args ...any) ([]*railyard.Deployment, error) {
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	deployments := []*railyard.Deployment{}
	var row deploymentRow
	dest := row.dest()
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		d, err := row.deployment()
		if err != nil {
			return nil, err
		}
		deployments = append(deployments, d)
	}
	return deployments, rows.Err()
}

// PutDeployment creates or replaces a deployment. An empty QueuedBecause
// is stored as NULL and so reads back as nil.
func (t *tx) PutDeployment(ctx context.Context, d *railyard.Deployment) error {
	var because any
	if len(d.QueuedBecause) > 0 {
		b, err := json.Marshal(d.QueuedBecause)
		if err != nil {
			return wrap("put deployment", err)
		}
		because = string(b)
	}
	var byName, byEmail any
	if d.DeployedBy != nil {
		byName, byEmail = d.DeployedBy.Name, d.DeployedBy.Email
	}
	_, err := t.exec(ctx, putDeploymentSQL, d.Application, d.Environment, nullInt(d.Version),
		nullMicros(d.DeployedAt), byName, byEmail, nullInt(d.QueuedVersion),
		nullMicros(d.QueuedAt), because)
	return wrap("put deployment", err)
}

// DeleteDeployment returns ENOTFOUND if there is no such deployment.
func (t *tx) DeleteDeployment(ctx context.Context, app, env string) error {
	n, err := t.execAffected(ctx, deleteDeploymentSQL, app, env)
	if err != nil {
		return wrap("delete deployment", err)
	}
	if n == 0 {
		return deploymentNotFound(app, env)
	}
	return nil
}

// deploymentsQuery builds the query for a filter. Its text depends only on
// which fields are set, so deploymentQueries can prepare every variant.
func deploymentsQuery(f railyard.DeploymentFilter) (string, []any) {
	var w where
	w.eq("application", f.Application)
	w.eq("environment", f.Environment)
	if f.Queued {
		w.add("queued_version IS NOT NULL")
	}
	return `SELECT ` + deploymentColumns + ` FROM deployments` + w.clause() +
		` ORDER BY application, environment`, w.args
}

// deploymentQueries lists every query deploymentsQuery can build.
func deploymentQueries() []string {
	var qs []string
	for _, app := range []string{"", "a"} {
		for _, env := range []string{"", "e"} {
			for _, queued := range []bool{false, true} {
				q, _ := deploymentsQuery(railyard.DeploymentFilter{Application: app, Environment: env, Queued: queued})
				qs = append(qs, q)
			}
		}
	}
	return qs
}

// deploymentRow holds the columns of one deployment row.
type deploymentRow struct {
	app, env                                     string
	version, deployedAt, queuedVersion, queuedAt sql.NullInt64
	deployedBy, deployedByEmail                  sql.NullString
	queuedBecause                                sql.RawBytes
}

// dest returns the scan destinations, in deploymentColumns order.
func (r *deploymentRow) dest() []any {
	return []any{&r.app, &r.env, &r.version, &r.deployedAt, &r.deployedBy, &r.deployedByEmail,
		&r.queuedVersion, &r.queuedAt, &r.queuedBecause}
}

// deploymentBlock is a deployment with the values its pointers point to,
// so that one allocation holds them all.
type deploymentBlock struct {
	d                      railyard.Deployment
	version, queuedVersion int64
	deployedAt, queuedAt   time.Time
	deployedBy             railyard.Actor
}

// deployment decodes the row into a new Deployment.
func (r *deploymentRow) deployment() (*railyard.Deployment, error) {
	b := &deploymentBlock{}
	d := &b.d
	d.Application, d.Environment = r.app, r.env
	if r.version.Valid {
		b.version, d.Version = r.version.Int64, &b.version
	}
	if r.deployedAt.Valid {
		b.deployedAt, d.DeployedAt = fromMicros(r.deployedAt.Int64), &b.deployedAt
	}
	if r.deployedBy.Valid {
		b.deployedBy = railyard.Actor{Name: r.deployedBy.String, Email: r.deployedByEmail.String}
		d.DeployedBy = &b.deployedBy
	}
	if r.queuedVersion.Valid {
		b.queuedVersion, d.QueuedVersion = r.queuedVersion.Int64, &b.queuedVersion
	}
	if r.queuedAt.Valid {
		b.queuedAt, d.QueuedAt = fromMicros(r.queuedAt.Int64), &b.queuedAt
	}
	if r.queuedBecause != nil {
		if err := json.Unmarshal(r.queuedBecause, &d.QueuedBecause); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func deploymentNotFound(app, env string) error {
	return railyard.Errorf(railyard.ENOTFOUND, "application %q has no deployment in environment %q", app, env)
}
