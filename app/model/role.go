package model

// Role is what a member may do in an org. Roles are ordered: each can do all that the ones below it can.
type Role string

const (
	RoleOwner   Role = "owner"
	RoleAdmin   Role = "admin"
	RoleManager Role = "manager"
	RoleAgent   Role = "agent"
)

// Roles lists every role, highest first, for forms.
var Roles = []Role{RoleOwner, RoleAdmin, RoleManager, RoleAgent}

func (r Role) rank() int {
	switch r {
	case RoleOwner:
		return 4
	case RoleAdmin:
		return 3
	case RoleManager:
		return 2
	case RoleAgent:
		return 1
	}
	return 0
}

// Valid tells whether r is one of the four roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// AtLeast tells whether r may do what min may do.
func (r Role) AtLeast(min Role) bool { return r.Valid() && r.rank() >= min.rank() }

// CanGrant tells whether a member with role r may give role target to someone:
// nobody grants above their own role, and only owners make owners.
func (r Role) CanGrant(target Role) bool {
	return target.Valid() && r.AtLeast(RoleAdmin) && r.rank() >= target.rank()
}

// Actor is who makes a change and from where: the member, their org and role, the client.
// Services take it first after the context; the org id in it comes from the session or the
// API key, never from the request body.
type Actor struct {
	UserID    int64
	OrgID     int64
	Role      Role
	IP        string
	UserAgent string
}

// UserRef is the actor's user id for columns that record who did something (NULL for none).
func (a Actor) UserRef() *int64 {
	if a.UserID == 0 {
		return nil
	}
	id := a.UserID
	return &id
}
