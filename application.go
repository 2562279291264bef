package railyard

import "time"

// Application is a microservice that Railyard releases. It comes into being
// with its first release; its team is the team of its newest release that
// named one.
type Application struct {
	Name      string    `json:"name"`
	Team      string    `json:"team,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}
