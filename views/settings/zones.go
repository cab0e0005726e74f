package settings

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"masteria/app/i18n"
	"masteria/app/model"
	"masteria/views/ui"
)

// zoneGroup is one <optgroup> of the time zone select.
type zoneGroup struct {
	Label string
	Zones []zoneOption
}

// zoneOption is one zone: its IANA name and "São Paulo (UTC−03:00)".
type zoneOption struct {
	Name, Label string
}

// zoneCities spells the cities whose IANA names lost their accents.
var zoneCities = map[string]string{
	"Sao_Paulo": "São Paulo", "Belem": "Belém", "Maceio": "Maceió", "Araguaina": "Araguaína",
	"Santarem": "Santarém", "Cuiaba": "Cuiabá", "Noronha": "Fernando de Noronha", "Bahia": "Salvador (Bahia)",
	"Cordoba": "Córdoba", "Tucuman": "Tucumán", "Bogota": "Bogotá", "Asuncion": "Asunción",
	"Cancun": "Cancún", "Merida": "Mérida", "Mazatlan": "Mazatlán", "Ciudad_Juarez": "Ciudad Juárez",
	"Bahia_Banderas": "Bahía de Banderas", "Panama": "Panamá",
	"St_Johns": "St. John's", "Easter": "Rapa Nui (Easter Island)", "Galapagos": "Galápagos",
}

// zoneCity names a zone by its city: "America/Indiana/Knox" is "Knox (Indiana)".
func zoneCity(name string) string {
	parts := strings.Split(name, "/")
	last := parts[len(parts)-1]
	city, ok := zoneCities[last]
	if !ok {
		city = strings.ReplaceAll(last, "_", " ")
	}
	if len(parts) == 3 && parts[1] != "Argentina" {
		city += " (" + strings.ReplaceAll(parts[1], "_", " ") + ")"
	}
	return city
}

// utcOffset writes a zone's offset at t: "UTC−03:00", "UTC+01:00", "UTC".
func utcOffset(t time.Time) string {
	_, off := t.Zone()
	if off == 0 {
		return "UTC"
	}
	sign := "+"
	if off < 0 {
		sign, off = "−", -off
	}
	return fmt.Sprintf("UTC%s%02d:%02d", sign, off/3600, off%3600/60)
}

// zoneGroups are the select's groups in the reader's language: Brazil and Portugal first,
// the other countries by name, UTC last. A current zone off the list (set before the list
// existed) heads the select, so saving the form keeps it.
func zoneGroups(ctx context.Context, current string, now time.Time) []zoneGroup {
	opt := func(name string) zoneOption {
		label := zoneCity(name)
		if loc, err := time.LoadLocation(name); err == nil {
			if off := utcOffset(now.In(loc)); off != label {
				label += " (" + off + ")"
			}
		}
		return zoneOption{Name: name, Label: label}
	}
	var out []zoneGroup
	if current != "" && !model.ListedTimeZone(current) {
		if _, err := time.LoadLocation(current); err == nil {
			out = append(out, zoneGroup{Label: ui.T(ctx, "settings.general.time_zone_current"), Zones: []zoneOption{{Name: current, Label: current}}})
		}
	}
	var rest []zoneGroup
	var utc zoneGroup
	for _, g := range model.TimeZones {
		zg := zoneGroup{Label: "UTC"}
		if g.Country != "" {
			zg.Label = ui.T(ctx, "country."+g.Country)
		}
		for _, z := range g.Zones {
			zg.Zones = append(zg.Zones, opt(z))
		}
		switch g.Country {
		case "BR", "PT":
			out = append(out, zg)
		case "":
			utc = zg
		default:
			rest = append(rest, zg)
		}
	}
	tag := language.English
	if i18n.FromContext(ctx) == i18n.PTBR {
		tag = language.BrazilianPortuguese
	}
	col := collate.New(tag, collate.Loose)
	slices.SortStableFunc(rest, func(a, b zoneGroup) int { return col.CompareString(a.Label, b.Label) })
	return append(append(out, rest...), utc)
}

// zoneNow is the time now in the zone: "02/01/2006 15:04 (UTC−03:00)"; "" for a zone
// that does not load.
func zoneNow(ctx context.Context, zone string, now time.Time) string {
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "" {
		return ""
	}
	t := now.In(loc)
	return i18n.FormatTime(i18n.FromContext(ctx), t) + " (" + utcOffset(t) + ")"
}
