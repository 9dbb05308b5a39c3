package fakevbazure

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/openrestore/portal/demotenant"
)

// Infrastructure is what the fake protects: Azure subscriptions, resource
// groups, VMs with their restore points and the history of their files,
// and the Azure service accounts restores to the original location use.
type Infrastructure struct {
	TenantID        string
	Subscriptions   []Subscription
	ResourceGroups  []ResourceGroup
	VMs             []VM
	ServiceAccounts []ServiceAccount
}

// Subscription is an Azure subscription.
type Subscription struct{ Name string }

// ResourceGroup is a resource group of a subscription.
type ResourceGroup struct{ Name, Subscription, Region string }

// VM is a protected Azure VM.
type VM struct {
	Name          string
	OS            string // Windows, Linux or Unknown
	Region        string
	ResourceGroup string
	Subscription  string
	Size          string // Standard_D4s_v5; an Arm size has a "p" (Standard_D4ps_v5)
	DiskGB        int
	Policy        string
	// Deleted VMs are gone from Azure; their restore points remain.
	Deleted bool
	// DiskEncryption is Azure Disk Encryption: the product refuses to
	// restore files of such a VM to its original location.
	DiskEncryption bool
	// Arm: its processors are Arm64, which file-level restore does not support.
	Arm bool
	// Points are when its restore points were taken.
	Points []PointSeed
	// Files are its files and folders as they were at an instant: restore
	// points hold Files(point time), the VM starts with Files(now).
	Files func(at time.Time) []File
	// Skipped are volumes file-level restore cannot read (an unsupported
	// file system): the session's log says so.
	Skipped []string
	// History is earlier file-level restore sessions of the VM: ones that
	// failed, and ones that logged a warning.
	History []PastSession
}

// PointSeed is a restore point.
type PointSeed struct {
	Time      time.Time
	Corrupted bool
	// Archive: in the archive tier, its data must be retrieved first.
	Archive bool
}

// File is a file (or an empty folder) of a VM.
type File struct {
	Path     string
	Size     int64
	Modified time.Time
	Folder   bool
	// Locked: the VM has it open, so restoring over it fails.
	Locked bool
}

// PastSession is an earlier file-level restore session: it failed with
// Message, or it ended well having logged Message as a warning.
type PastSession struct {
	At      time.Time
	Failed  bool
	Message string
}

// ServiceAccount is an Azure service account of VBAzure (an Entra
// application) with what it may do where.
type ServiceAccount struct {
	Name          string
	Purposes      []string // VirtualMachineRestore, …
	Subscriptions []string // names
}

// azID is the stable id of a named object of the fake's infrastructure.
func azID(kind, name string) string { return demotenant.ID("vbazure-"+kind, name) }

// SubscriptionID, ResourceGroupID and VMID are the ids the fake gives
// these objects: stable, so rules and links written against them hold.
func SubscriptionID(name string) string       { return azID("subscription", name) }
func ResourceGroupID(sub, name string) string { return azID("rg", sub+"/"+name) }
func VMID(name string) string                 { return azID("vm", name) }

// azVM is a VM as served.
type azVM struct {
	seed          VM
	id, azureID   string
	sub           *azSubscription
	rg            *azResourceGroup
	live          *fsys
	points        []*azPoint
	hasRunningFLR bool
}

type azSubscription struct {
	id, name string
}

type azResourceGroup struct {
	id, name, region string
	sub              *azSubscription
}

// azPoint is a restore point as served.
type azPoint struct {
	id        string
	vm        *azVM
	time      time.Time
	corrupted bool
	archive   bool
	size      int64
	// retrieval of archived data: None, Retrieving (until retrievedAt),
	// Retrieved (until retrievedUntil).
	retrieving     bool
	retrievedAt    time.Time
	retrievedUntil time.Time
	files          *fsys // built when first opened
}

func (p *azPoint) retrievalStatus(now time.Time) string {
	switch {
	case !p.archive:
		return "None"
	case p.retrieving && now.Before(p.retrievedAt):
		return "Retrieving"
	case p.retrieving && now.Before(p.retrievedUntil):
		return "Retrieved"
	}
	return "None"
}

// readable reports whether a file-level restore can read the point now.
func (p *azPoint) readable(now time.Time) bool {
	return !p.archive || p.retrievalStatus(now) == "Retrieved"
}

type azServiceAccount struct {
	id, appID string
	seed      ServiceAccount
	subs      []string // ids
}

// build makes a file system of files.
func build(windows bool, files []File) *fsys {
	f := newFS(windows)
	for _, x := range files {
		names, err := f.split(x.Path)
		if err != nil || len(names) == 0 {
			continue
		}
		e := &entry{name: names[len(names)-1], folder: x.Folder, size: x.Size, modified: x.Modified, locked: x.Locked}
		if e.folder {
			if old := f.lookup(names); old != nil && old.folder {
				continue
			}
			e.children = map[string]*entry{}
		}
		if len(names) == 1 && f.windows { // a volume
			if f.root.children[f.key(e.name)] == nil {
				f.root.children[f.key(e.name)] = &entry{name: e.name, folder: true, modified: x.Modified, children: map[string]*entry{}}
			}
			continue
		}
		if f.windows && f.root.children[f.key(names[0])] == nil {
			f.root.children[f.key(names[0])] = &entry{name: names[0], folder: true, modified: x.Modified, children: map[string]*entry{}}
		}
		f.put(names[:len(names)-1], e, x.Modified)
	}
	return f
}

// loadInfrastructure turns the seed into what is served.
func (s *Server) loadInfrastructure(in Infrastructure) {
	now := s.opts.Now()
	subs := map[string]*azSubscription{}
	for _, x := range in.Subscriptions {
		subs[x.Name] = &azSubscription{id: SubscriptionID(x.Name), name: x.Name}
		s.subscriptions = append(s.subscriptions, subs[x.Name])
	}
	rgs := map[string]*azResourceGroup{}
	for _, x := range in.ResourceGroups {
		rg := &azResourceGroup{id: ResourceGroupID(x.Subscription, x.Name), name: x.Name, region: x.Region, sub: subs[x.Subscription]}
		rgs[x.Subscription+"/"+x.Name] = rg
		s.resourceGroups = append(s.resourceGroups, rg)
	}
	for _, x := range in.VMs {
		v := &azVM{seed: x, id: VMID(x.Name), sub: subs[x.Subscription], rg: rgs[x.Subscription+"/"+x.ResourceGroup]}
		v.azureID = "/subscriptions/" + v.sub.id + "/resourceGroups/" + x.ResourceGroup + "/providers/Microsoft.Compute/virtualMachines/" + x.Name
		if x.Files != nil {
			v.live = build(x.OS == "Windows", x.Files(now))
		}
		for i, p := range x.Points {
			v.points = append(v.points, &azPoint{id: azID("point", x.Name+"/"+p.Time.UTC().Format(time.RFC3339)), vm: v, time: p.Time,
				corrupted: p.Corrupted, archive: p.Archive, size: int64(x.DiskGB)<<30/20 + int64(i)*7_340_032})
		}
		slices.SortFunc(v.points, func(a, b *azPoint) int { return a.time.Compare(b.time) })
		s.vms = append(s.vms, v)
		for _, f := range x.History {
			s.addPastSession(v, f)
		}
	}
	for _, x := range in.ServiceAccounts {
		a := &azServiceAccount{id: azID("account", x.Name), appID: azID("app", x.Name), seed: x}
		for _, n := range x.Subscriptions {
			a.subs = append(a.subs, SubscriptionID(n))
		}
		s.accounts = append(s.accounts, a)
	}
	s.tenantID = in.TenantID
}

func (s *Server) vmByID(id string) *azVM {
	for _, v := range s.vms {
		if strings.EqualFold(v.id, id) {
			return v
		}
	}
	return nil
}

func (s *Server) pointByID(id string) *azPoint {
	for _, v := range s.vms {
		for _, p := range v.points {
			if strings.EqualFold(p.id, id) {
				return p
			}
		}
	}
	return nil
}

// missing answers 404 when v is nil, naming what was not found.
func missing[T any](w http.ResponseWriter, v *T, what, id string) bool {
	if v == nil {
		problem(w, http.StatusNotFound, "Not Found", "The "+what+" "+id+" was not found.")
		return true
	}
	return false
}

// paging reads Offset and Limit (Limit=-1: all); a bad value answers 400.
func paging(w http.ResponseWriter, r *http.Request, defaultLimit int) (offset, limit int, ok bool) {
	q := r.URL.Query()
	offset, limit = 0, defaultLimit
	var errs []string
	if v := q.Get("Offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs = append(errs, "Offset must be 0 or more.")
		}
		offset = n
	}
	if v := q.Get("Limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < -1 {
			errs = append(errs, "Limit must be -1 (all) or more.")
		}
		limit = n
	}
	if len(errs) > 0 {
		invalid(w, map[string][]string{"paging": errs})
		return 0, 0, false
	}
	return offset, limit, true
}

// page is the document's page envelope.
type page[T any] struct {
	Offset     int  `json:"offset"`
	Limit      int  `json:"limit"`
	TotalCount *int `json:"totalCount"`
	Results    []T  `json:"results"`
}

func pageOf[T any](all []T, offset, limit int) page[T] {
	p := all[min(offset, len(all)):]
	if limit >= 0 && limit < len(p) {
		p = p[:limit]
	}
	total := len(all)
	return page[T]{Offset: offset, Limit: limit, TotalCount: &total, Results: append([]T{}, p...)}
}

// subscriptionRep is the document's AzureSubscription.
type subscriptionRep struct {
	ID           string `json:"id"`
	Environment  string `json:"environment"`
	TenantID     string `json:"tenantId"`
	TenantName   string `json:"tenantName"`
	Name         string `json:"name"`
	Status       string `json:"status"`
	Availability string `json:"availability"`
}

func (s *Server) subscriptionRep(x *azSubscription) subscriptionRep {
	return subscriptionRep{ID: x.id, Environment: "Global", TenantID: s.tenantID, TenantName: demotenant.Name, Name: x.name,
		Status: "Active", Availability: "Available"}
}

// resourceGroupRep is the document's ResourceGroup.
type resourceGroupRep struct {
	ID               string `json:"id"`
	ResourceID       string `json:"resourceId"`
	Name             string `json:"name"`
	AzureEnvironment string `json:"azureEnvironment"`
	SubscriptionID   string `json:"subscriptionId"`
	TenantID         string `json:"tenantId"`
	RegionID         string `json:"regionId"`
}

func (s *Server) resourceGroupRep(x *azResourceGroup) resourceGroupRep {
	return resourceGroupRep{ID: x.id, ResourceID: "/subscriptions/" + x.sub.id + "/resourceGroups/" + x.name, Name: x.name,
		AzureEnvironment: "Global", SubscriptionID: x.sub.id, TenantID: s.tenantID, RegionID: x.region}
}

// listSubscriptions handles GET /cloudInfrastructure/subscriptions.
func (s *Server) listSubscriptions(w http.ResponseWriter, r *http.Request) {
	offset, limit, ok := paging(w, r, 100)
	if !ok {
		return
	}
	match := matcher(r.URL.Query().Get("SearchPattern"))
	s.mu.Lock()
	var all []subscriptionRep
	for _, x := range s.subscriptions {
		if match(x.name) {
			all = append(all, s.subscriptionRep(x))
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, pageOf(all, offset, limit))
}

// listResourceGroups handles GET /cloudInfrastructure/resourceGroups.
func (s *Server) listResourceGroups(w http.ResponseWriter, r *http.Request) {
	offset, limit, ok := paging(w, r, 100)
	if !ok {
		return
	}
	q := r.URL.Query()
	match := matcher(q.Get("SearchPattern"))
	s.mu.Lock()
	var all []resourceGroupRep
	for _, x := range s.resourceGroups {
		if match(x.name) && (q.Get("SubscriptionId") == "" || strings.EqualFold(q.Get("SubscriptionId"), x.sub.id)) {
			all = append(all, s.resourceGroupRep(x))
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, pageOf(all, offset, limit))
}

// vmRep is the document's VirtualMachine.
type vmRep struct {
	ID                 string           `json:"id"`
	AzureID            string           `json:"azureId"`
	Name               string           `json:"name"`
	AzureEnvironment   string           `json:"azureEnvironment"`
	OSType             string           `json:"osType"`
	RegionDisplayName  string           `json:"regionDisplayName"`
	RegionName         string           `json:"regionName"`
	TotalSizeInGB      int              `json:"totalSizeInGB"`
	VMSize             string           `json:"vmSize"`
	DNSName            *string          `json:"dnsName"`
	PrivateIP          *string          `json:"privateIP"`
	HasEphemeralOSDisk bool             `json:"hasEphemeralOsDisk"`
	IsController       bool             `json:"isController"`
	IsDeleted          bool             `json:"isDeleted"`
	SubscriptionID     string           `json:"subscriptionId"`
	SubscriptionName   string           `json:"subscriptionName"`
	TenantID           string           `json:"tenantId"`
	ResourceGroupName  string           `json:"resourceGroupName"`
	Links              map[string]*link `json:"_links"`
}

// regionNames are the display names of the regions the demo uses.
var regionNames = map[string]string{"westeurope": "West Europe", "northeurope": "North Europe", "eastus": "East US",
	"swedencentral": "Sweden Central"}

func regionDisplay(r string) string {
	if n, ok := regionNames[r]; ok {
		return n
	}
	return r
}

func (s *Server) vmRep(v *azVM, version string) vmRep {
	r := vmRep{ID: v.id, AzureID: v.azureID, Name: v.seed.Name, AzureEnvironment: "Global", OSType: v.seed.OS,
		RegionDisplayName: regionDisplay(v.seed.Region), RegionName: v.seed.Region, TotalSizeInGB: v.seed.DiskGB, VMSize: v.seed.Size,
		IsDeleted: v.seed.Deleted, SubscriptionID: v.sub.id, SubscriptionName: v.sub.name, TenantID: s.tenantID,
		ResourceGroupName: v.seed.ResourceGroup,
		Links:             map[string]*link{"self": {Href: s.opts.BaseURL + "/api/" + version + "/virtualMachines/" + v.id}}}
	if !v.seed.Deleted {
		dns := strings.ToLower(v.seed.Name) + ".contoso.internal"
		ip := "10.20." + strconv.Itoa(len(v.seed.Name)) + "." + strconv.Itoa(4+int(v.id[0])%200)
		r.DNSName, r.PrivateIP = &dns, &ip
	}
	return r
}

// listVMs handles GET /virtualMachines?SubscriptionId&ResourceGroupId&SearchPattern&Offset&Limit.
func (s *Server) listVMs(w http.ResponseWriter, r *http.Request) {
	offset, limit, ok := paging(w, r, 100)
	if !ok {
		return
	}
	q := r.URL.Query()
	match := matcher(q.Get("SearchPattern"))
	s.mu.Lock()
	var all []vmRep
	for _, v := range s.vms {
		if match(v.seed.Name) && (q.Get("SubscriptionId") == "" || strings.EqualFold(q.Get("SubscriptionId"), v.sub.id)) &&
			(q.Get("ResourceGroupId") == "" || strings.EqualFold(q.Get("ResourceGroupId"), v.rg.id)) {
			all = append(all, s.vmRep(v, versionOf(r)))
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, pageOf(all, offset, limit))
}

// getVM handles GET /virtualMachines/{id}.
func (s *Server) getVM(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.vmByID(r.PathValue("id"))
	if missing(w, v, "virtual machine", r.PathValue("id")) {
		return
	}
	writeJSON(w, http.StatusOK, s.vmRep(v, versionOf(r)))
}

// protectedVMRep is the document's ProtectedVirtualMachine.
type protectedVMRep struct {
	ID               string           `json:"id"`
	AzureID          string           `json:"azureId"`
	Name             string           `json:"name"`
	AzureEnvironment string           `json:"azureEnvironment"`
	OSType           string           `json:"osType"`
	RegionName       string           `json:"regionName"`
	TotalSizeInGB    int              `json:"totalSizeInGB"`
	VMSize           string           `json:"vmSize"`
	IsController     bool             `json:"isController"`
	LastBackup       time.Time        `json:"lastBackup"`
	Subscription     subscriptionRep  `json:"subscription"`
	Region           regionRep        `json:"region"`
	ResourceGroup    resourceGroupRep `json:"resourceGroup"`
}

type regionRep struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// listProtectedVMs handles GET /protectedItem/virtualMachines?SearchPattern&FlrSession&Offset&Limit.
func (s *Server) listProtectedVMs(w http.ResponseWriter, r *http.Request) {
	offset, limit, ok := paging(w, r, 100)
	if !ok {
		return
	}
	q := r.URL.Query()
	match := matcher(q.Get("SearchPattern"))
	now := s.opts.Now()
	s.mu.Lock()
	s.advance(now)
	var all []protectedVMRep
	for _, v := range s.vms {
		if !match(v.seed.Name) || len(v.points) == 0 || (q.Get("FlrSession") == "true" && !v.hasRunningFLR) {
			continue
		}
		all = append(all, protectedVMRep{ID: v.id, AzureID: v.azureID, Name: v.seed.Name, AzureEnvironment: "Global", OSType: v.seed.OS,
			RegionName: v.seed.Region, TotalSizeInGB: v.seed.DiskGB, VMSize: v.seed.Size, LastBackup: v.points[len(v.points)-1].time.UTC(),
			Subscription: s.subscriptionRep(v.sub), Region: regionRep{ID: v.seed.Region, Name: regionDisplay(v.seed.Region)},
			ResourceGroup: s.resourceGroupRep(v.rg)})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, pageOf(all, offset, limit))
}

// pointRep is the document's VirtualMachineRestorePoint.
type pointRep struct {
	ID                  string           `json:"id"`
	Type                string           `json:"type"`
	PointInTime         time.Time        `json:"pointInTime"`
	BackupSizeBytes     int64            `json:"backupSizeBytes"`
	IsCorrupted         bool             `json:"isCorrupted"`
	VMName              string           `json:"vmName"`
	ResourceHashID      string           `json:"resourceHashId"`
	RegionID            string           `json:"regionId"`
	RegionName          string           `json:"regionName"`
	BackupDestination   string           `json:"backupDestination"`
	State               string           `json:"state"`
	GFSFlags            string           `json:"gfsFlags"`
	DataRetrievalStatus string           `json:"dataRetrievalStatus"`
	RetrievedUntil      *time.Time       `json:"retrievedDataExpirationDate"`
	AccessTier          string           `json:"accessTier"`
	Links               map[string]*link `json:"_links"`
}

func (s *Server) pointRep(p *azPoint, version string, now time.Time) pointRep {
	r := pointRep{ID: p.id, Type: "Incremental", PointInTime: p.time.UTC(), BackupSizeBytes: p.size, IsCorrupted: p.corrupted,
		VMName: p.vm.seed.Name, ResourceHashID: p.vm.id, RegionID: p.vm.seed.Region, RegionName: regionDisplay(p.vm.seed.Region),
		BackupDestination: "AzureBlob", State: "Ok", GFSFlags: "None", DataRetrievalStatus: p.retrievalStatus(now), AccessTier: "Hot",
		Links: map[string]*link{"self": {Href: s.opts.BaseURL + "/api/" + version + "/restorePoints/virtualMachines/" + p.id}}}
	if p.corrupted {
		r.State = "Corrupted"
	}
	if p.archive {
		r.AccessTier, r.GFSFlags = "Archive", "Monthly"
		if r.DataRetrievalStatus == "Retrieved" {
			until := p.retrievedUntil.UTC()
			r.RetrievedUntil = &until
		}
	}
	if p == p.vm.points[0] {
		r.Type = "Full"
	}
	return r
}

// listPoints handles GET /restorePoints/virtualMachines?VirtualMachineId&OnlyLatest&Offset&Limit.
func (s *Server) listPoints(w http.ResponseWriter, r *http.Request) {
	offset, limit, ok := paging(w, r, 100)
	if !ok {
		return
	}
	q := r.URL.Query()
	now := s.opts.Now()
	s.mu.Lock()
	var all []pointRep
	for _, v := range s.vms {
		if id := q.Get("VirtualMachineId"); id != "" && !strings.EqualFold(id, v.id) {
			continue
		}
		points := v.points
		if q.Get("OnlyLatest") == "true" && len(points) > 0 {
			points = points[len(points)-1:]
		}
		for i := len(points) - 1; i >= 0; i-- { // newest first, as the product lists them
			all = append(all, s.pointRep(points[i], versionOf(r), now))
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, pageOf(all, offset, limit))
}

// getPoint handles GET /restorePoints/virtualMachines/{restorePointId}.
func (s *Server) getPoint(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pointByID(r.PathValue("restorePointId"))
	if missing(w, p, "restore point", r.PathValue("restorePointId")) {
		return
	}
	writeJSON(w, http.StatusOK, s.pointRep(p, versionOf(r), s.opts.Now()))
}

// accountRep is the document's AzureAccount.
type accountRep struct {
	AccountID             string   `json:"accountId"`
	ApplicationID         string   `json:"applicationId"`
	Name                  string   `json:"name"`
	Description           string   `json:"description"`
	Region                string   `json:"region"`
	TenantID              string   `json:"tenantId"`
	TenantName            string   `json:"tenantName"`
	AccountOrigin         string   `json:"accountOrigin"`
	AccountState          string   `json:"accountState"`
	CloudState            string   `json:"cloudState"`
	Purposes              []string `json:"purposes"`
	SubscriptionIDs       []string `json:"subscriptionIds"`
	AzurePermissionsState []string `json:"azurePermissionsState"`
}

// listAccounts handles GET /accounts/azure/service?Purpose&Offset&Limit.
func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request) {
	offset, limit, ok := paging(w, r, 100)
	if !ok {
		return
	}
	want := r.URL.Query()["Purpose"]
	s.mu.Lock()
	var all []accountRep
	for _, a := range s.accounts {
		if len(want) > 0 && !slices.ContainsFunc(want, func(p string) bool { return slices.Contains(a.seed.Purposes, p) }) {
			continue
		}
		all = append(all, accountRep{AccountID: a.id, ApplicationID: a.appID, Name: a.seed.Name, Description: "Restores of " + strings.Join(a.seed.Subscriptions, ", "),
			Region: "Global", TenantID: s.tenantID, TenantName: demotenant.Name, AccountOrigin: "Imported Secret", AccountState: "Created",
			CloudState: "Valid", Purposes: a.seed.Purposes, SubscriptionIDs: a.subs, AzurePermissionsState: []string{"AllPermissionsAvailable"}})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, pageOf(all, offset, limit))
}
