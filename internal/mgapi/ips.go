package mgapi

// IPList is GET /v3/ips and GET /v3/domains/{d}/ips (docs/mailgun-contract.md §13.1,
// docs/mailgun-contract.md §11.4): mailgun-go reads items; details and assignable_to_pools are
// Mailgun's newer fields (account list only).
type IPList struct {
	Items             []string   `json:"items"`
	TotalCount        int        `json:"total_count"`
	Details           []IPDetail `json:"details,omitempty"`
	AssignableToPools []string   `json:"assignable_to_pools,omitempty"`
}

// IPDetail is one address in IPList.Details.
type IPDetail struct {
	IP         string `json:"ip"`
	IsOnWarmup bool   `json:"is_on_warmup"`
}

// IP is GET /v3/ips/{ip}: rdns is the name the address says in EHLO,
// which must match its PTR record.
type IP struct {
	IP        string `json:"ip"`
	RDNS      string `json:"rdns"`
	Dedicated bool   `json:"dedicated"`
}

// IPPool is one dedicated IP pool.
type IPPool struct {
	PoolID      string   `json:"pool_id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	IPs         []string `json:"ips"`
	IsLinked    bool     `json:"is_linked"`
	IsInherited bool     `json:"is_inherited"`
}

// IPPools is GET /v3/ip_pools.
type IPPools struct {
	IPPools []IPPool `json:"ip_pools"`
	Message string   `json:"message"`
}

// IPPoolDetails is GET /v3/ip_pools/{id}.
type IPPoolDetails struct {
	Details IPPoolLinked `json:"details"`
	Message string       `json:"message"`
}

// IPPoolLinked is a pool with the domains that send from it.
type IPPoolLinked struct {
	IPPool
	LinkedDomains []string `json:"linked_domains"`
}

// IPPoolCreated is POST /v3/ip_pools.
type IPPoolCreated struct {
	Message string `json:"message"`
	PoolID  string `json:"pool_id"`
}

// IPPoolDomains is GET /v3/ip_pools/{id}/domains.
type IPPoolDomains struct {
	Domains []IPPoolDomain `json:"domains"`
	Paging  Paging         `json:"paging"`
}

// IPPoolDomain is one domain linked to a pool.
type IPPoolDomain struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}
