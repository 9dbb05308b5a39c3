package fakevbazure

import (
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/openrestore/portal/demotenant"
)

// The demo's stories, for the banner, the README and the tests.
const (
	// StoryFinanceVM's StoryForecast was deleted three days ago; a
	// colleague started a new, nearly empty one the day after.
	StoryFinanceVM = "fin-fs-01"
	StoryForecast  = `D:\Finance\2026\Q3 forecast.xlsx`
	// StoryWebVM's StoryNginx was broken yesterday.
	StoryWebVM = "web-01"
	StoryNginx = "/etc/nginx/sites-available/contoso.conf"
	// LargeFolder on StoryFinanceVM holds LargeFolderFiles scans.
	LargeFolder      = `D:\Scans\Invoices 2025`
	LargeFolderFiles = 20_000
	// Subscriptions of the demo.
	ProductionSubscription  = "Contoso Production"
	DevelopmentSubscription = "Contoso Development"
)

// Forecast sizes: the real one (last week's), and the one started again.
const (
	ForecastSize    = 412_838
	NewForecastSize = 9_216
)

// DemoInfrastructure is Contoso's Azure, as of now: two subscriptions,
// five resource groups, seven VMs (Windows and Linux, one deleted, one
// with Azure Disk Encryption, one Arm, one with a volume file-level
// restore cannot read), 30 days of daily restore points (the oldest in the
// archive tier, one corrupted), files that drift from day to day, and the
// stories above.
func DemoInfrastructure(now time.Time) Infrastructure {
	now = now.UTC()
	day := func(n int) time.Time { return now.AddDate(0, 0, -n) }
	return Infrastructure{
		TenantID:      demotenant.TenantID,
		Subscriptions: []Subscription{{ProductionSubscription}, {DevelopmentSubscription}},
		ResourceGroups: []ResourceGroup{
			{"rg-finance", ProductionSubscription, "westeurope"},
			{"rg-web", ProductionSubscription, "westeurope"},
			{"rg-erp", ProductionSubscription, "northeurope"},
			{"rg-hr", ProductionSubscription, "westeurope"},
			{"rg-dev", DevelopmentSubscription, "swedencentral"},
		},
		VMs: []VM{
			{Name: StoryFinanceVM, OS: "Windows", Region: "westeurope", ResourceGroup: "rg-finance", Subscription: ProductionSubscription,
				Size: "Standard_D4s_v5", DiskGB: 640, Policy: "Finance servers, twice daily", Points: dailyPoints(now, 30, 7, 6),
				Files: financeFiles(now)},
			{Name: StoryWebVM, OS: "Linux", Region: "westeurope", ResourceGroup: "rg-web", Subscription: ProductionSubscription,
				Size: "Standard_B2s", DiskGB: 64, Policy: "Web servers, daily", Points: dailyPoints(now, 30, 0, -1), Files: webFiles(now, true)},
			{Name: "web-02", OS: "Linux", Region: "westeurope", ResourceGroup: "rg-web", Subscription: ProductionSubscription,
				Size: "Standard_B2s", DiskGB: 64, Policy: "Web servers, daily", Deleted: true,
				Points: dailyPoints(day(6), 24, 0, -1), Files: webFiles(day(6), false)},
			{Name: "erp-app-01", OS: "Windows", Region: "northeurope", ResourceGroup: "rg-erp", Subscription: ProductionSubscription,
				Size: "Standard_E8s_v5", DiskGB: 1024, Policy: "ERP, daily", DiskEncryption: true, Points: dailyPoints(now, 30, 0, -1),
				Files: erpFiles(now),
				History: []PastSession{{At: day(12).Add(-3 * time.Hour), Failed: true,
					Message: "Restoring files to the original location is not supported for virtual machines protected with Azure Disk Encryption."}}},
			{Name: "hr-app-01", OS: "Windows", Region: "westeurope", ResourceGroup: "rg-hr", Subscription: ProductionSubscription,
				Size: "Standard_D2s_v5", DiskGB: 128, Policy: "HR, daily", Points: dailyPoints(now, 30, 0, -1), Files: hrFiles(now)},
			{Name: "dev-build-01", OS: "Linux", Region: "swedencentral", ResourceGroup: "rg-dev", Subscription: DevelopmentSubscription,
				Size: "Standard_D4ps_v5", Arm: true, DiskGB: 128, Policy: "Development, daily", Points: dailyPoints(now, 14, 0, -1),
				Files: buildFiles(now),
				History: []PastSession{{At: day(9).Add(-5 * time.Hour), Failed: true,
					Message: "File-level recovery is not supported for virtual machines with Arm64 processors (Standard_D4ps_v5)."}}},
			{Name: "dev-data-01", OS: "Linux", Region: "swedencentral", ResourceGroup: "rg-dev", Subscription: DevelopmentSubscription,
				Size: "Standard_D8s_v5", DiskGB: 2048, Policy: "Development, daily", Points: dailyPoints(now, 14, 0, -1),
				Files: dataFiles(now), Skipped: []string{"/mnt/datasets (ZFS)"},
				History: []PastSession{{At: day(5).Add(-2 * time.Hour),
					Message: "The volume /mnt/datasets (ZFS) has a file system that file-level recovery does not support; it was skipped."}}},
		},
		ServiceAccounts: []ServiceAccount{
			{Name: "contoso-prod-restore", Purposes: []string{"VirtualMachineRestore"}, Subscriptions: []string{ProductionSubscription}},
			{Name: "contoso-dev", Purposes: []string{"VirtualMachineBackup", "VirtualMachineRestore"}, Subscriptions: []string{DevelopmentSubscription}},
			{Name: "contoso-repository", Purposes: []string{"Repository"}, Subscriptions: []string{ProductionSubscription}},
		},
	}
}

// dailyPoints are a point at 22:00 UTC on each of the days days before
// last (and at 12:00 on the last midday days too), the ones older than 21
// days in the archive tier, the one corruptDay days back corrupted.
func dailyPoints(last time.Time, days, midday, corruptDay int) []PointSeed {
	var out []PointSeed
	for d := days - 1; d >= 0; d-- {
		date := last.AddDate(0, 0, -d)
		evening := time.Date(date.Year(), date.Month(), date.Day(), 22, 0, 0, 0, time.UTC)
		noon := time.Date(date.Year(), date.Month(), date.Day(), 12, 0, 0, 0, time.UTC)
		if d < midday && noon.Before(last) {
			out = append(out, PointSeed{Time: noon})
		}
		if evening.Before(last) {
			out = append(out, PointSeed{Time: evening, Corrupted: d == corruptDay, Archive: d > 21})
		}
	}
	return out
}

// spread is a stable pseudo-random number in [0, n) for a name.
func spread(name string, n int64) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int64(h.Sum64() % uint64(n))
}

// files collects a file system's content.
type files struct {
	at  time.Time
	out []File
}

func (f *files) add(path string, size int64, modified time.Time) {
	if !modified.After(f.at) {
		f.out = append(f.out, File{Path: path, Size: size, Modified: modified})
	}
}

func (f *files) locked(path string, size int64, modified time.Time) {
	if !modified.After(f.at) {
		f.out = append(f.out, File{Path: path, Size: size, Modified: modified, Locked: true})
	}
}

func (f *files) folder(path string, modified time.Time) {
	f.out = append(f.out, File{Path: path, Folder: true, Modified: modified})
}

// daily adds a file for each day from first to at, named by date.
func (f *files) daily(first time.Time, format string, size int64) {
	for d := first; !d.After(f.at); d = d.AddDate(0, 0, 1) {
		name := fmt.Sprintf(format, d.Format("2006-01-02"))
		f.add(name, size+spread(name, size/4), d)
	}
}

func financeFiles(now time.Time) func(time.Time) []File {
	old := now.AddDate(0, 0, -400)
	return func(at time.Time) []File {
		f := &files{at: at}
		f.folder(`C:\`, old)
		f.locked(`C:\pagefile.sys`, 8<<30, at.Add(-26*time.Hour))
		f.add(`C:\Windows\System32\drivers\etc\hosts`, 824, old)
		f.add(`C:\Users\Public\Documents\Finance file server.txt`, 1_204, old)
		f.add(`D:\Finance\2026\Budget 2026.xlsx`, 1_882_113, now.AddDate(0, 0, -60))
		f.add(`D:\Finance\2026\Q1 actuals.xlsx`, 734_226, now.AddDate(0, 0, -150))
		f.add(`D:\Finance\2026\Q2 actuals.xlsx`, 788_940, now.AddDate(0, 0, -58))
		f.add(`D:\Finance\2026\Board pack.pptx`, 5_120_733, now.AddDate(0, 0, -14))
		// The story: the forecast, last revised nine days ago, deleted
		// three days ago, started again the day after.
		deleted := now.AddDate(0, 0, -3)
		if at.Before(deleted) {
			if revised := now.AddDate(0, 0, -9).Add(-3 * time.Hour); !at.Before(revised) {
				f.add(StoryForecast, ForecastSize, revised)
			} else {
				f.add(StoryForecast, 398_112, now.AddDate(0, 0, -40))
			}
		} else {
			f.add(StoryForecast, NewForecastSize, now.AddDate(0, 0, -2))
		}
		f.daily(now.AddDate(0, 0, -35), `D:\Finance\2026\Daily\cashflow %s.xlsx`, 96_000)
		f.locked(`D:\Finance\Ledger\ledger.mdf`, 2_147_483_648, at.Add(-time.Hour))
		f.locked(`D:\Finance\Ledger\ledger_log.ldf`, 536_870_912, at.Add(-time.Hour))
		f.add(`D:\Finance\Ledger\Readme – do not move.txt`, 312, old)
		f.add(`D:\Finance\Reports\Überweisungen März.xlsx`, 66_001, now.AddDate(0, 0, -80))
		f.add(`D:\Finance\Reports\Relatório trimestral.docx`, 120_394, now.AddDate(0, 0, -45))
		f.add(`D:\Finance\Reports\財務報告 2026.pdf`, 402_881, now.AddDate(0, 0, -20))
		start := now.AddDate(0, 0, -330)
		for i := 1; i <= LargeFolderFiles; i++ {
			name := fmt.Sprintf(`%s\INV-2025-%05d.pdf`, LargeFolder, i)
			f.add(name, 40_000+spread(name, 360_000), start.Add(time.Duration(i)*20*time.Minute))
		}
		for _, n := range []string{
			"invoice\u202efdp.exe", "Ünïcödé 文件 📊.xlsx", "%2e%2e%5cboot.ini", "{{.Secret}} ${HOME}.txt",
			"'; DROP TABLE files;--.txt", "&amp;lt;entity&gt;.txt", " leading space.docx",
			strings.Repeat("Quarterly report ", 12) + "final.docx",
		} {
			f.add(`D:\Shared\Odd names\`+n, 1_000+spread(n, 90_000), now.AddDate(0, 0, -25))
		}
		return f.out
	}
}

func webFiles(now time.Time, story bool) func(time.Time) []File {
	old := now.AddDate(0, 0, -300)
	return func(at time.Time) []File {
		f := &files{at: at}
		f.add("/etc/hostname", 7, old)
		f.add("/etc/hosts", 221, old)
		f.add("/etc/nginx/nginx.conf", 1_482, old)
		f.add("/etc/nginx/sites-available/default", 2_088, old)
		// The story: the site's configuration, fine for three weeks,
		// broken yesterday.
		if broken := now.AddDate(0, 0, -1); story && !at.Before(broken) {
			f.add(StoryNginx, 96, broken)
		} else {
			f.add(StoryNginx, 2_413, now.AddDate(0, 0, -20))
		}
		f.add("/etc/nginx/sites-enabled/contoso.conf", 2_413, now.AddDate(0, 0, -20))
		f.add("/var/www/contoso/index.html", 18_230, now.AddDate(0, 0, -12))
		f.add("/var/www/contoso/assets/site.css", 40_912, now.AddDate(0, 0, -12))
		f.add("/var/www/contoso/assets/logo.svg", 5_301, old)
		f.daily(now.AddDate(0, 0, -30), "/var/log/nginx/access-%s.log.gz", 2_400_000)
		f.add("/home/azureuser/.bashrc", 3_771, old)
		for _, n := range []string{
			"<script>alert(1)<script>.html", `"quoted" & 'apos'.conf`, `back\slash.txt`, "line\nbreak.txt",
			"<img src=x onerror=alert(1)>.png", "javascript:alert(1)", "\u202etxt.sh", "%2F..%2Fetc%2Fpasswd", "tab\tname.txt",
			"$(rm -rf ~).sh", "...", strings.Repeat("x", 255),
		} {
			f.add("/srv/uploads/"+n, 100+spread(n, 9_000), now.AddDate(0, 0, -25))
		}
		return f.out
	}
}

func erpFiles(now time.Time) func(time.Time) []File {
	return func(at time.Time) []File {
		f := &files{at: at}
		f.folder(`C:\`, now.AddDate(-1, 0, 0))
		f.add(`C:\ERP\config\erp.ini`, 4_410, now.AddDate(0, 0, -90))
		f.add(`C:\ERP\config\connections.xml`, 2_002, now.AddDate(0, 0, -31))
		f.daily(now.AddDate(0, 0, -30), `E:\ERPData\exports\orders %s.csv`, 1_200_000)
		return f.out
	}
}

func hrFiles(now time.Time) func(time.Time) []File {
	return func(at time.Time) []File {
		f := &files{at: at}
		f.folder(`C:\`, now.AddDate(-1, 0, 0))
		f.add(`C:\HRApp\appsettings.json`, 3_112, now.AddDate(0, 0, -70))
		f.add(`D:\HR\Contracts\Template – permanent.docx`, 88_204, now.AddDate(0, 0, -200))
		f.daily(now.AddDate(0, 0, -30), `D:\HR\Payroll\payroll run %s.csv`, 310_000)
		return f.out
	}
}

func buildFiles(now time.Time) func(time.Time) []File {
	return func(at time.Time) []File {
		f := &files{at: at}
		f.add("/home/builder/.ssh/known_hosts", 1_890, now.AddDate(0, 0, -100))
		f.daily(now.AddDate(0, 0, -14), "/var/lib/builds/build-%s.tar.zst", 88_000_000)
		return f.out
	}
}

func dataFiles(now time.Time) func(time.Time) []File {
	return func(at time.Time) []File {
		f := &files{at: at}
		f.add("/etc/fstab", 612, now.AddDate(0, 0, -200))
		f.add("/home/analyst/notebooks/churn.ipynb", 512_330, now.AddDate(0, 0, -4))
		f.daily(now.AddDate(0, 0, -14), "/var/lib/jobs/run-%s.log", 12_000)
		return f.out
	}
}
