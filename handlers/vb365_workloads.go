package handlers

import "github.com/openrestore/portal/veeamapi"

// workload names a VB365 workload in the portal's URLs and pages.
type workload struct {
	key   string // in URLs
	label string
	api   veeamapi.Workload
}

// workloads in the order the pages show them.
var workloads = []workload{
	{"exchange", "Exchange", veeamapi.Exchange},
	{"onedrive", "OneDrive", veeamapi.OneDrive},
	{"sharepoint", "SharePoint", veeamapi.SharePoint},
	{"teams", "Teams", veeamapi.Teams},
}

func workloadByKey(key string) (workload, bool) {
	for _, w := range workloads {
		if w.key == key {
			return w, true
		}
	}
	return workload{}, false
}
