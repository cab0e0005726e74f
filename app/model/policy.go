package model

// Permission is something only some roles may do. The router's guards, the services'
// checks and the pages' buttons all ask here, so a page never offers what the server
// refuses, and a rule changes in one place.
type Permission string

// What a role may do beyond working the inbox, contacts and board (every member does that).
const (
	ManageContacts      Permission = "contacts.manage"   // import, export and delete contacts; segments, tags, custom fields
	ShapePipelines      Permission = "pipelines.shape"   // create, edit and delete pipelines and stages
	DeleteAnyLead       Permission = "leads.delete_any"  // others may delete the leads they own or created
	SeeAllConversations Permission = "conversations.all" // and give them to anyone; agents may be limited to theirs
	ManageChannels      Permission = "channels.manage"   // connect, test, disconnect channels; templates; QR pairing
	ManageInbox         Permission = "inbox.manage"      // inbox settings (rotation, restriction) and quick replies
	SeeMembers          Permission = "members.see"       // the members page
	RunCampaigns        Permission = "campaigns.run"     // build, launch, pause and cancel campaigns; their prices
	ManageKnowledge     Permission = "knowledge.manage"  // knowledge bases, their documents and the playground
	ManagePersonas      Permission = "personas.manage"   // the bot's personas and which one answers on each channel
	ManageOrg           Permission = "org.manage"        // the org's settings, invites and roles, API keys, audit log
	UseOwnAccount       Permission = "account.own"       // profile and sessions: everyone
	ViewAnalytics       Permission = "analytics.view"    // the dashboard, its drill-downs and exports, the metric definitions
)

// policy is the lowest role holding each permission.
var policy = map[Permission]Role{
	ManageContacts:      RoleManager,
	ShapePipelines:      RoleManager,
	DeleteAnyLead:       RoleManager,
	SeeAllConversations: RoleManager,
	SeeMembers:          RoleManager,
	RunCampaigns:        RoleManager,
	ManageKnowledge:     RoleManager,
	ManagePersonas:      RoleManager,
	ViewAnalytics:       RoleManager,
	ManageChannels:      RoleAdmin,
	ManageInbox:         RoleAdmin,
	ManageOrg:           RoleAdmin,
	UseOwnAccount:       RoleAgent,
}

// MinRole is the lowest role that has p; an unknown permission belongs to owners only.
func (p Permission) MinRole() Role {
	if r, ok := policy[p]; ok {
		return r
	}
	return RoleOwner
}

// May says whether role r has permission p.
func (r Role) May(p Permission) bool { return r.AtLeast(p.MinRole()) }

// MayDeleteLead says whether the actor may delete a lead owned by owner and created by
// creator (nil: nobody): anyone with DeleteAnyLead, else its owner or creator.
func (a Actor) MayDeleteLead(owner, creator *int64) bool {
	mine := func(p *int64) bool { return p != nil && a.UserID != 0 && *p == a.UserID }
	return a.Role.May(DeleteAnyLead) || mine(owner) || mine(creator)
}
