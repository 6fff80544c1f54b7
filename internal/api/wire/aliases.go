// Aliases of the names that moved to package mgapi (listed from its
// exported declarations when the move was made).

package wire

import "github.com/salvo-email/salvo/internal/mgapi"

// Deprecated aliases: every shape, date type and the request parameters
// moved to package mgapi. Use mgapi.X; scripts/unwire.sh rewrites
// remaining uses.
type (
	// Deprecated: use mgapi.AcceptedStats.
	AcceptedStats = mgapi.AcceptedStats
	// Deprecated: use mgapi.AddressMessage.
	AddressMessage = mgapi.AddressMessage
	// Deprecated: use mgapi.AllowEntry.
	AllowEntry = mgapi.AllowEntry
	// Deprecated: use mgapi.AttachmentInfo.
	AttachmentInfo = mgapi.AttachmentInfo
	// Deprecated: use mgapi.Bounce.
	Bounce = mgapi.Bounce
	// Deprecated: use mgapi.Campaign.
	Campaign = mgapi.Campaign
	// Deprecated: use mgapi.ClickTracking.
	ClickTracking = mgapi.ClickTracking
	// Deprecated: use mgapi.ClientInfo.
	ClientInfo = mgapi.ClientInfo
	// Deprecated: use mgapi.Complaint.
	Complaint = mgapi.Complaint
	// Deprecated: use mgapi.Connection.
	Connection = mgapi.Connection
	// Deprecated: use mgapi.ConnectionSettings.
	ConnectionSettings = mgapi.ConnectionSettings
	// Deprecated: use mgapi.ConnectionUpdated.
	ConnectionUpdated = mgapi.ConnectionUpdated
	// Deprecated: use mgapi.Credential.
	Credential = mgapi.Credential
	// Deprecated: use mgapi.CredentialDeleted.
	CredentialDeleted = mgapi.CredentialDeleted
	// Deprecated: use mgapi.CredentialsCreated.
	CredentialsCreated = mgapi.CredentialsCreated
	// Deprecated: use mgapi.CredentialsDeleted.
	CredentialsDeleted = mgapi.CredentialsDeleted
	// Deprecated: use mgapi.CredentialsPage.
	CredentialsPage = mgapi.CredentialsPage
	// Deprecated: use mgapi.DNSRecord.
	DNSRecord = mgapi.DNSRecord
	// Deprecated: use mgapi.DateError.
	DateError = mgapi.DateError
	// Deprecated: use mgapi.DeliveredStats.
	DeliveredStats = mgapi.DeliveredStats
	// Deprecated: use mgapi.DeliveryStatus.
	DeliveryStatus = mgapi.DeliveryStatus
	// Deprecated: use mgapi.Domain.
	Domain = mgapi.Domain
	// Deprecated: use mgapi.DomainList.
	DomainList = mgapi.DomainList
	// Deprecated: use mgapi.DomainResponse.
	DomainResponse = mgapi.DomainResponse
	// Deprecated: use mgapi.Envelope.
	Envelope = mgapi.Envelope
	// Deprecated: use mgapi.Event.
	Event = mgapi.Event
	// Deprecated: use mgapi.EventMessage.
	EventMessage = mgapi.EventMessage
	// Deprecated: use mgapi.EventsPage.
	EventsPage = mgapi.EventsPage
	// Deprecated: use mgapi.FailedStats.
	FailedStats = mgapi.FailedStats
	// Deprecated: use mgapi.Flags.
	Flags = mgapi.Flags
	// Deprecated: use mgapi.FlexBool.
	FlexBool = mgapi.FlexBool
	// Deprecated: use mgapi.FlexInt.
	FlexInt = mgapi.FlexInt
	// Deprecated: use mgapi.FlexString.
	FlexString = mgapi.FlexString
	// Deprecated: use mgapi.FlexStrings.
	FlexStrings = mgapi.FlexStrings
	// Deprecated: use mgapi.Geolocation.
	Geolocation = mgapi.Geolocation
	// Deprecated: use mgapi.IP.
	IP = mgapi.IP
	// Deprecated: use mgapi.IPDetail.
	IPDetail = mgapi.IPDetail
	// Deprecated: use mgapi.IPList.
	IPList = mgapi.IPList
	// Deprecated: use mgapi.IPPool.
	IPPool = mgapi.IPPool
	// Deprecated: use mgapi.IPPoolCreated.
	IPPoolCreated = mgapi.IPPoolCreated
	// Deprecated: use mgapi.IPPoolDetails.
	IPPoolDetails = mgapi.IPPoolDetails
	// Deprecated: use mgapi.IPPoolDomain.
	IPPoolDomain = mgapi.IPPoolDomain
	// Deprecated: use mgapi.IPPoolDomains.
	IPPoolDomains = mgapi.IPPoolDomains
	// Deprecated: use mgapi.IPPoolLinked.
	IPPoolLinked = mgapi.IPPoolLinked
	// Deprecated: use mgapi.IPPools.
	IPPools = mgapi.IPPools
	// Deprecated: use mgapi.ISOTime.
	ISOTime = mgapi.ISOTime
	// Deprecated: use mgapi.ImportAccepted.
	ImportAccepted = mgapi.ImportAccepted
	// Deprecated: use mgapi.Key.
	Key = mgapi.Key
	// Deprecated: use mgapi.KeyCreated.
	KeyCreated = mgapi.KeyCreated
	// Deprecated: use mgapi.KeyList.
	KeyList = mgapi.KeyList
	// Deprecated: use mgapi.ListDeleted.
	ListDeleted = mgapi.ListDeleted
	// Deprecated: use mgapi.ListOffsetPage.
	ListOffsetPage = mgapi.ListOffsetPage
	// Deprecated: use mgapi.ListPage.
	ListPage = mgapi.ListPage
	// Deprecated: use mgapi.ListResponse.
	ListResponse = mgapi.ListResponse
	// Deprecated: use mgapi.MailingList.
	MailingList = mgapi.MailingList
	// Deprecated: use mgapi.MailingListPage.
	MailingListPage = mgapi.MailingListPage
	// Deprecated: use mgapi.Member.
	Member = mgapi.Member
	// Deprecated: use mgapi.MemberDeleted.
	MemberDeleted = mgapi.MemberDeleted
	// Deprecated: use mgapi.MemberOffsetPage.
	MemberOffsetPage = mgapi.MemberOffsetPage
	// Deprecated: use mgapi.MemberPage.
	MemberPage = mgapi.MemberPage
	// Deprecated: use mgapi.MemberResponse.
	MemberResponse = mgapi.MemberResponse
	// Deprecated: use mgapi.Message.
	Message = mgapi.Message
	// Deprecated: use mgapi.MessageHeaders.
	MessageHeaders = mgapi.MessageHeaders
	// Deprecated: use mgapi.MetricsAggregate.
	MetricsAggregate = mgapi.MetricsAggregate
	// Deprecated: use mgapi.MetricsDimension.
	MetricsDimension = mgapi.MetricsDimension
	// Deprecated: use mgapi.MetricsFilter.
	MetricsFilter = mgapi.MetricsFilter
	// Deprecated: use mgapi.MetricsItem.
	MetricsItem = mgapi.MetricsItem
	// Deprecated: use mgapi.MetricsPagination.
	MetricsPagination = mgapi.MetricsPagination
	// Deprecated: use mgapi.MetricsPredicate.
	MetricsPredicate = mgapi.MetricsPredicate
	// Deprecated: use mgapi.MetricsRequest.
	MetricsRequest = mgapi.MetricsRequest
	// Deprecated: use mgapi.MetricsResponse.
	MetricsResponse = mgapi.MetricsResponse
	// Deprecated: use mgapi.OpenTracking.
	OpenTracking = mgapi.OpenTracking
	// Deprecated: use mgapi.Paging.
	Paging = mgapi.Paging
	// Deprecated: use mgapi.Params.
	Params = mgapi.Params
	// Deprecated: use mgapi.PermanentStats.
	PermanentStats = mgapi.PermanentStats
	// Deprecated: use mgapi.Route.
	Route = mgapi.Route
	// Deprecated: use mgapi.RouteDeleted.
	RouteDeleted = mgapi.RouteDeleted
	// Deprecated: use mgapi.RouteEnvelope.
	RouteEnvelope = mgapi.RouteEnvelope
	// Deprecated: use mgapi.RouteMatch.
	RouteMatch = mgapi.RouteMatch
	// Deprecated: use mgapi.RouteRef.
	RouteRef = mgapi.RouteRef
	// Deprecated: use mgapi.RouteUpdated.
	RouteUpdated = mgapi.RouteUpdated
	// Deprecated: use mgapi.RoutesPage.
	RoutesPage = mgapi.RoutesPage
	// Deprecated: use mgapi.SendResponse.
	SendResponse = mgapi.SendResponse
	// Deprecated: use mgapi.Stats.
	Stats = mgapi.Stats
	// Deprecated: use mgapi.StatsEntry.
	StatsEntry = mgapi.StatsEntry
	// Deprecated: use mgapi.Storage.
	Storage = mgapi.Storage
	// Deprecated: use mgapi.Tag.
	Tag = mgapi.Tag
	// Deprecated: use mgapi.TagLimits.
	TagLimits = mgapi.TagLimits
	// Deprecated: use mgapi.Template.
	Template = mgapi.Template
	// Deprecated: use mgapi.TemplateList.
	TemplateList = mgapi.TemplateList
	// Deprecated: use mgapi.TemplateResponse.
	TemplateResponse = mgapi.TemplateResponse
	// Deprecated: use mgapi.TemplateVersion.
	TemplateVersion = mgapi.TemplateVersion
	// Deprecated: use mgapi.TemplateVersionCopied.
	TemplateVersionCopied = mgapi.TemplateVersionCopied
	// Deprecated: use mgapi.TemplateVersionList.
	TemplateVersionList = mgapi.TemplateVersionList
	// Deprecated: use mgapi.TemplateWithVersions.
	TemplateWithVersions = mgapi.TemplateWithVersions
	// Deprecated: use mgapi.TemporaryStats.
	TemporaryStats = mgapi.TemporaryStats
	// Deprecated: use mgapi.Time.
	Time = mgapi.Time
	// Deprecated: use mgapi.TotalStat.
	TotalStat = mgapi.TotalStat
	// Deprecated: use mgapi.Tracking.
	Tracking = mgapi.Tracking
	// Deprecated: use mgapi.TrackingSettings.
	TrackingSettings = mgapi.TrackingSettings
	// Deprecated: use mgapi.TrackingUpdated.
	TrackingUpdated = mgapi.TrackingUpdated
	// Deprecated: use mgapi.UniqueStat.
	UniqueStat = mgapi.UniqueStat
	// Deprecated: use mgapi.Unsubscribe.
	Unsubscribe = mgapi.Unsubscribe
	// Deprecated: use mgapi.UnsubscribeTracking.
	UnsubscribeTracking = mgapi.UnsubscribeTracking
	// Deprecated: use mgapi.ValueMessage.
	ValueMessage = mgapi.ValueMessage
	// Deprecated: use mgapi.WebhookAttempts.
	WebhookAttempts = mgapi.WebhookAttempts
	// Deprecated: use mgapi.WebhookList.
	WebhookList = mgapi.WebhookList
	// Deprecated: use mgapi.WebhookOne.
	WebhookOne = mgapi.WebhookOne
	// Deprecated: use mgapi.WebhookRetry.
	WebhookRetry = mgapi.WebhookRetry
	// Deprecated: use mgapi.WebhookTest.
	WebhookTest = mgapi.WebhookTest
	// Deprecated: use mgapi.WebhookURLState.
	WebhookURLState = mgapi.WebhookURLState
	// Deprecated: use mgapi.WebhookURLs.
	WebhookURLs = mgapi.WebhookURLs
)

// Deprecated: use the function of the same name in package mgapi.
var (
	EventTime       = mgapi.EventTime
	FormatDate      = mgapi.FormatDate
	NewParams       = mgapi.NewParams
	ParseBool       = mgapi.ParseBool
	ParseDate       = mgapi.ParseDate
	ParseParams     = mgapi.ParseParams
	RequestTooLarge = mgapi.RequestTooLarge
)

// Deprecated: use mgapi.ISOLayout, mgapi.RFC2822.
const (
	ISOLayout = mgapi.ISOLayout
	RFC2822   = mgapi.RFC2822
)
