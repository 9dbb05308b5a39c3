package vbazure

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/openrestore/portal/internal/rest"
)

// Page is the document's page envelope.
type Page[T any] struct {
	Offset     int `json:"offset"`
	Limit      int `json:"limit"`
	TotalCount int `json:"totalCount"`
	Results    []T `json:"results"`
}

// pageOrAsync is a page, or the asynchronous operation some lists answer
// with (202) while the server collects them.
type pageOrAsync[T any] struct {
	Page[T]
	Status string   `json:"status"`
	Result *Page[T] `json:"result"`
}

// listPageSize is how many items the client asks for at a time when it
// reads a whole list.
const listPageSize = 200

// all reads every item of a list, page by page.
func all[T any](ctx context.Context, a *Account, path string, q url.Values) ([]T, error) {
	var out []T
	for offset := 0; ; {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("Offset", strconv.Itoa(offset))
		v.Set("Limit", strconv.Itoa(listPageSize))
		var p pageOrAsync[T]
		if err := a.call(ctx, rest.Request{Method: http.MethodGet, Path: path, Query: v}, &p); err != nil {
			return nil, err
		}
		page := p.Page
		if p.Result != nil {
			page = *p.Result
		} else if p.Status != "" {
			return nil, fmt.Errorf("vbazure: GET %s: %w: the server is still collecting the list (%s)", path, ErrUnavailable, p.Status)
		}
		out = append(out, page.Results...)
		offset += len(page.Results)
		if len(page.Results) == 0 || offset >= page.TotalCount {
			return out, nil
		}
	}
}

// Subscription is the document's AzureSubscription.
type Subscription struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	TenantID string `json:"tenantId"`
	Status   string `json:"status"`
}

// Subscriptions lists the Azure subscriptions VBAzure knows.
//
// VBAzure: GET /api/v8.1/cloudInfrastructure/subscriptions
func (a *Account) Subscriptions(ctx context.Context) ([]Subscription, error) {
	return all[Subscription](ctx, a, a.c.path("/cloudInfrastructure/subscriptions"), nil)
}

// ResourceGroup is the document's ResourceGroup.
type ResourceGroup struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	SubscriptionID string `json:"subscriptionId"`
	RegionID       string `json:"regionId"`
}

// ResourceGroups lists the resource groups of a subscription ("" for all).
//
// VBAzure: GET /api/v8.1/cloudInfrastructure/resourceGroups
func (a *Account) ResourceGroups(ctx context.Context, subscriptionID string) ([]ResourceGroup, error) {
	q := url.Values{}
	if subscriptionID != "" {
		q.Set("SubscriptionId", subscriptionID)
	}
	return all[ResourceGroup](ctx, a, a.c.path("/cloudInfrastructure/resourceGroups"), q)
}

// VirtualMachine is the document's VirtualMachine.
type VirtualMachine struct {
	ID                string `json:"id"`
	AzureID           string `json:"azureId"`
	Name              string `json:"name"`
	OSType            string `json:"osType"` // Windows, Linux, Unknown
	RegionName        string `json:"regionName"`
	RegionDisplayName string `json:"regionDisplayName"`
	VMSize            string `json:"vmSize"`
	TotalSizeInGB     int    `json:"totalSizeInGB"`
	IsDeleted         bool   `json:"isDeleted"`
	SubscriptionID    string `json:"subscriptionId"`
	SubscriptionName  string `json:"subscriptionName"`
	ResourceGroupName string `json:"resourceGroupName"`
}

// Windows reports whether the VM's paths are Windows paths.
func (v VirtualMachine) Windows() bool { return v.OSType == "Windows" }

// VirtualMachines lists every Azure VM VBAzure knows, deleted ones too.
//
// VBAzure: GET /api/v8.1/virtualMachines
func (a *Account) VirtualMachines(ctx context.Context) ([]VirtualMachine, error) {
	return all[VirtualMachine](ctx, a, a.c.path("/virtualMachines"), nil)
}

// VirtualMachine reads one VM.
//
// VBAzure: GET /api/v8.1/virtualMachines/{id}
func (a *Account) VirtualMachine(ctx context.Context, id string) (*VirtualMachine, error) {
	var v VirtualMachine
	if err := a.call(ctx, rest.Request{Method: http.MethodGet, Path: a.c.path("/virtualMachines/%s", id)}, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// ProtectedVM is the document's ProtectedVirtualMachine: a VM with backups.
type ProtectedVM struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	OSType     string    `json:"osType"`
	RegionName string    `json:"regionName"`
	LastBackup time.Time `json:"lastBackup"`
}

// ProtectedVMs lists the VMs that have restore points.
//
// VBAzure: GET /api/v8.1/protectedItem/virtualMachines
func (a *Account) ProtectedVMs(ctx context.Context) ([]ProtectedVM, error) {
	return all[ProtectedVM](ctx, a, a.c.path("/protectedItem/virtualMachines"), nil)
}

// ServiceAccount is the document's AzureAccount: an Entra application
// VBAzure acts in Azure with.
type ServiceAccount struct {
	AccountID       string   `json:"accountId"`
	Name            string   `json:"name"`
	Purposes        []string `json:"purposes"`
	SubscriptionIDs []string `json:"subscriptionIds"`
}

// PurposeVMRestore is the purpose of service accounts that restore VMs' data.
const PurposeVMRestore = "VirtualMachineRestore"

// ServiceAccounts lists the Azure service accounts with a purpose ("" for all).
//
// VBAzure: GET /api/v8.1/accounts/azure/service
func (a *Account) ServiceAccounts(ctx context.Context, purpose string) ([]ServiceAccount, error) {
	q := url.Values{}
	if purpose != "" {
		q.Set("Purpose", purpose)
	}
	return all[ServiceAccount](ctx, a, a.c.path("/accounts/azure/service"), q)
}

// RestorePoint is the document's VirtualMachineRestorePoint.
type RestorePoint struct {
	ID                  string     `json:"id"`
	Type                string     `json:"type"`
	PointInTime         time.Time  `json:"pointInTime"`
	BackupSizeBytes     int64      `json:"backupSizeBytes"`
	IsCorrupted         *bool      `json:"isCorrupted"`
	State               string     `json:"state"`
	VMName              string     `json:"vmName"`
	BackupDestination   string     `json:"backupDestination"`
	AccessTier          *string    `json:"accessTier"`
	DataRetrievalStatus string     `json:"dataRetrievalStatus"`
	RetrievedUntil      *time.Time `json:"retrievedDataExpirationDate"`
}

// Corrupted reports whether the point cannot be restored from.
func (p RestorePoint) Corrupted() bool {
	return (p.IsCorrupted != nil && *p.IsCorrupted) || p.State == "Corrupted"
}

// Archived reports whether the point is in the archive tier.
func (p RestorePoint) Archived() bool { return p.AccessTier != nil && *p.AccessTier == "Archive" }

// Readable reports whether a file-level restore can read it now: not
// archived, or its archived data is retrieved.
func (p RestorePoint) Readable() bool {
	return !p.Corrupted() && (!p.Archived() || p.DataRetrievalStatus == "Retrieved")
}

// RestorePoints lists every restore point of a VM, newest first.
//
// VBAzure: GET /api/v8.1/restorePoints/virtualMachines?VirtualMachineId=
func (a *Account) RestorePoints(ctx context.Context, vmID string) ([]RestorePoint, error) {
	return all[RestorePoint](ctx, a, a.c.path("/restorePoints/virtualMachines"), url.Values{"VirtualMachineId": {vmID}})
}

// RestorePoint reads one restore point.
//
// VBAzure: GET /api/v8.1/restorePoints/virtualMachines/{restorePointId}
func (a *Account) RestorePoint(ctx context.Context, id string) (*RestorePoint, error) {
	var p RestorePoint
	if err := a.call(ctx, rest.Request{Method: http.MethodGet, Path: a.c.path("/restorePoints/virtualMachines/%s", id)}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Retrieval is the document's DataRetrievalOptions.
type Retrieval struct {
	Priority   string `json:"dataRetrievalPriority"` // Normal or High
	DaysToKeep int    `json:"daysToKeep"`            // 1 to 30
}

// RetrieveData brings an archived point's data back for DaysToKeep days.
// It is never retried: a second request would be refused as a conflict.
//
// VBAzure: POST /api/v8.1/restorePoints/virtualMachines/{restorePointId}/retrieveData
func (a *Account) RetrieveData(ctx context.Context, pointID string, r Retrieval) (*JobSession, error) {
	var j JobSession
	err := a.call(ctx, rest.Request{Method: http.MethodPost, Path: a.c.path("/restorePoints/virtualMachines/%s/retrieveData", pointID), Body: r}, &j)
	if err != nil {
		return nil, err
	}
	return &j, nil
}
