package model

import (
	"time"
	// The zones below load the same on every machine, whether it has a tzdata of its own
	// or not: schedules and quiet hours must not depend on how the server was built.
	_ "time/tzdata"
)

// DefaultTimeZone is a new org's time zone (the column's default).
const DefaultTimeZone = "America/Sao_Paulo"

// ZoneGroup is one country's time zones in the org's time zone choice.
type ZoneGroup struct {
	Country string   // ISO 3166; "" is the group of UTC alone
	Zones   []string // IANA names, the most used first
}

// TimeZones are the zones an org can pick, by country: Brazil and Portugal first, then
// Latin America, the other countries of Countries, and UTC.
var TimeZones = []ZoneGroup{
	{"BR", []string{"America/Sao_Paulo", "America/Bahia", "America/Fortaleza", "America/Recife", "America/Belem",
		"America/Maceio", "America/Araguaina", "America/Santarem", "America/Manaus", "America/Cuiaba",
		"America/Campo_Grande", "America/Porto_Velho", "America/Boa_Vista", "America/Rio_Branco",
		"America/Eirunepe", "America/Noronha"}},
	{"PT", []string{"Europe/Lisbon", "Atlantic/Madeira", "Atlantic/Azores"}},
	{"AR", []string{"America/Argentina/Buenos_Aires", "America/Argentina/Cordoba", "America/Argentina/Salta",
		"America/Argentina/Jujuy", "America/Argentina/Tucuman", "America/Argentina/Catamarca",
		"America/Argentina/La_Rioja", "America/Argentina/San_Juan", "America/Argentina/Mendoza",
		"America/Argentina/San_Luis", "America/Argentina/Rio_Gallegos", "America/Argentina/Ushuaia"}},
	{"BO", []string{"America/La_Paz"}},
	{"CL", []string{"America/Santiago", "America/Punta_Arenas", "Pacific/Easter"}},
	{"CO", []string{"America/Bogota"}},
	{"CR", []string{"America/Costa_Rica"}},
	{"CU", []string{"America/Havana"}},
	{"DO", []string{"America/Santo_Domingo"}},
	{"EC", []string{"America/Guayaquil", "Pacific/Galapagos"}},
	{"SV", []string{"America/El_Salvador"}},
	{"GT", []string{"America/Guatemala"}},
	{"HT", []string{"America/Port-au-Prince"}},
	{"HN", []string{"America/Tegucigalpa"}},
	{"MX", []string{"America/Mexico_City", "America/Cancun", "America/Merida", "America/Monterrey",
		"America/Matamoros", "America/Chihuahua", "America/Ciudad_Juarez", "America/Ojinaga",
		"America/Mazatlan", "America/Bahia_Banderas", "America/Hermosillo", "America/Tijuana"}},
	{"NI", []string{"America/Managua"}},
	{"PA", []string{"America/Panama"}},
	{"PY", []string{"America/Asuncion"}},
	{"PE", []string{"America/Lima"}},
	{"PR", []string{"America/Puerto_Rico"}},
	{"UY", []string{"America/Montevideo"}},
	{"VE", []string{"America/Caracas"}},
	{"US", []string{"America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
		"America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu", "America/Detroit",
		"America/Kentucky/Louisville", "America/Kentucky/Monticello", "America/Indiana/Indianapolis",
		"America/Indiana/Vincennes", "America/Indiana/Winamac", "America/Indiana/Marengo",
		"America/Indiana/Petersburg", "America/Indiana/Vevay", "America/Indiana/Tell_City",
		"America/Indiana/Knox", "America/Menominee", "America/North_Dakota/Center",
		"America/North_Dakota/New_Salem", "America/North_Dakota/Beulah", "America/Boise",
		"America/Juneau", "America/Sitka", "America/Metlakatla", "America/Yakutat", "America/Nome",
		"America/Adak"}},
	{"CA", []string{"America/Toronto", "America/Vancouver", "America/Edmonton", "America/Winnipeg",
		"America/Halifax", "America/St_Johns", "America/Regina", "America/Moncton", "America/Whitehorse"}},
	{"ES", []string{"Europe/Madrid", "Atlantic/Canary"}},
	{"GB", []string{"Europe/London"}},
	{"AO", []string{"Africa/Luanda"}},
	{"MZ", []string{"Africa/Maputo"}},
	{"", []string{"UTC"}},
}

// ListedTimeZone tells whether name is one of TimeZones and loads.
func ListedTimeZone(name string) bool {
	for _, g := range TimeZones {
		for _, z := range g.Zones {
			if z == name {
				_, err := time.LoadLocation(name)
				return err == nil
			}
		}
	}
	return false
}
