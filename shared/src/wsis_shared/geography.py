"""Countries and territories by ISO 3166-1 alpha-2 code, with the ITU region each belongs to.

Regions are ITU's six BDT (ITU-D) regions, `wsis_shared.vocabulary.Region`:

* Arab States: the members of the League of Arab States, including the North African ones
  (Algeria, Egypt, Libya, Morocco, Tunisia, Sudan, Mauritania) and Comoros, Djibouti and Somalia.
  These are *not* in Africa in ITU's list.
* CIS: Armenia, Azerbaijan, Belarus, Kazakhstan, Kyrgyzstan, Moldova, the Russian Federation,
  Tajikistan, Turkmenistan and Uzbekistan. Georgia and Ukraine are in Europe in ITU's list.
* Asia & Pacific: includes Iran, Afghanistan and the Pacific islands.
* Europe: includes Türkiye, Israel, Cyprus, Georgia and Ukraine.
* Americas: North, Central and South America and the Caribbean.
* Africa: the rest of sub-Saharan Africa.

The table holds every ITU Member State (193: the UN members less Palau, plus the Holy See) and
the inhabited territories an entry may plausibly name. Territories are not in ITU's regional
lists; each goes where ITU/UN practice puts it, which is its geographical region (UN M49) and
not that of the state administering it; judgement calls say so in a comment.

Names are concise English short names in UN/ITU usage ("Türkiye", "Republic of Korea",
"Viet Nam"), without the formal qualifiers ("Plurinational State of") that do not fit a display.
"""

from __future__ import annotations

from typing import Annotated, Final, NamedTuple

from pydantic import AfterValidator

from wsis_shared.vocabulary import Region


class UnknownCountry(ValueError):
    """A code that is not in `COUNTRIES`."""


class Country(NamedTuple):
    code: str
    name: str
    region: Region


_AF: Final = Region.AFRICA
_AM: Final = Region.AMERICAS
_AR: Final = Region.ARAB_STATES
_AP: Final = Region.ASIA_PACIFIC
_CIS: Final = Region.CIS
_EU: Final = Region.EUROPE

_MEMBER_STATES: Final[tuple[Country, ...]] = (
    # Africa (44)
    Country("AO", "Angola", _AF),
    Country("BJ", "Benin", _AF),
    Country("BW", "Botswana", _AF),
    Country("BF", "Burkina Faso", _AF),
    Country("BI", "Burundi", _AF),
    Country("CV", "Cabo Verde", _AF),
    Country("CM", "Cameroon", _AF),
    Country("CF", "Central African Republic", _AF),
    Country("TD", "Chad", _AF),
    Country("CG", "Congo", _AF),
    Country("CI", "Côte d'Ivoire", _AF),
    Country("CD", "Democratic Republic of the Congo", _AF),
    Country("GQ", "Equatorial Guinea", _AF),
    Country("ER", "Eritrea", _AF),
    Country("SZ", "Eswatini", _AF),
    Country("ET", "Ethiopia", _AF),
    Country("GA", "Gabon", _AF),
    Country("GM", "Gambia", _AF),
    Country("GH", "Ghana", _AF),
    Country("GN", "Guinea", _AF),
    Country("GW", "Guinea-Bissau", _AF),
    Country("KE", "Kenya", _AF),
    Country("LS", "Lesotho", _AF),
    Country("LR", "Liberia", _AF),
    Country("MG", "Madagascar", _AF),
    Country("MW", "Malawi", _AF),
    Country("ML", "Mali", _AF),
    Country("MU", "Mauritius", _AF),
    Country("MZ", "Mozambique", _AF),
    Country("NA", "Namibia", _AF),
    Country("NE", "Niger", _AF),
    Country("NG", "Nigeria", _AF),
    Country("RW", "Rwanda", _AF),
    Country("ST", "São Tomé and Príncipe", _AF),
    Country("SN", "Senegal", _AF),
    Country("SC", "Seychelles", _AF),
    Country("SL", "Sierra Leone", _AF),
    Country("ZA", "South Africa", _AF),
    Country("SS", "South Sudan", _AF),
    Country("TZ", "Tanzania", _AF),
    Country("TG", "Togo", _AF),
    Country("UG", "Uganda", _AF),
    Country("ZM", "Zambia", _AF),
    Country("ZW", "Zimbabwe", _AF),
    # Americas (35)
    Country("AG", "Antigua and Barbuda", _AM),
    Country("AR", "Argentina", _AM),
    Country("BS", "Bahamas", _AM),
    Country("BB", "Barbados", _AM),
    Country("BZ", "Belize", _AM),
    Country("BO", "Bolivia", _AM),
    Country("BR", "Brazil", _AM),
    Country("CA", "Canada", _AM),
    Country("CL", "Chile", _AM),
    Country("CO", "Colombia", _AM),
    Country("CR", "Costa Rica", _AM),
    Country("CU", "Cuba", _AM),
    Country("DM", "Dominica", _AM),
    Country("DO", "Dominican Republic", _AM),
    Country("EC", "Ecuador", _AM),
    Country("SV", "El Salvador", _AM),
    Country("GD", "Grenada", _AM),
    Country("GT", "Guatemala", _AM),
    Country("GY", "Guyana", _AM),
    Country("HT", "Haiti", _AM),
    Country("HN", "Honduras", _AM),
    Country("JM", "Jamaica", _AM),
    Country("MX", "Mexico", _AM),
    Country("NI", "Nicaragua", _AM),
    Country("PA", "Panama", _AM),
    Country("PY", "Paraguay", _AM),
    Country("PE", "Peru", _AM),
    Country("KN", "Saint Kitts and Nevis", _AM),
    Country("LC", "Saint Lucia", _AM),
    Country("VC", "Saint Vincent and the Grenadines", _AM),
    Country("SR", "Suriname", _AM),
    Country("TT", "Trinidad and Tobago", _AM),
    Country("US", "United States", _AM),
    Country("UY", "Uruguay", _AM),
    Country("VE", "Venezuela", _AM),
    # Arab States (21: the League of Arab States less Palestine, which is an ITU observer)
    Country("DZ", "Algeria", _AR),
    Country("BH", "Bahrain", _AR),
    Country("KM", "Comoros", _AR),
    Country("DJ", "Djibouti", _AR),
    Country("EG", "Egypt", _AR),
    Country("IQ", "Iraq", _AR),
    Country("JO", "Jordan", _AR),
    Country("KW", "Kuwait", _AR),
    Country("LB", "Lebanon", _AR),
    Country("LY", "Libya", _AR),
    Country("MR", "Mauritania", _AR),
    Country("MA", "Morocco", _AR),
    Country("OM", "Oman", _AR),
    Country("QA", "Qatar", _AR),
    Country("SA", "Saudi Arabia", _AR),
    Country("SO", "Somalia", _AR),
    Country("SD", "Sudan", _AR),
    Country("SY", "Syrian Arab Republic", _AR),
    Country("TN", "Tunisia", _AR),
    Country("AE", "United Arab Emirates", _AR),
    Country("YE", "Yemen", _AR),
    # Asia & Pacific (38)
    Country("AF", "Afghanistan", _AP),
    Country("AU", "Australia", _AP),
    Country("BD", "Bangladesh", _AP),
    Country("BT", "Bhutan", _AP),
    Country("BN", "Brunei Darussalam", _AP),
    Country("KH", "Cambodia", _AP),
    Country("CN", "China", _AP),
    Country("KP", "Democratic People's Republic of Korea", _AP),
    Country("FJ", "Fiji", _AP),
    Country("IN", "India", _AP),
    Country("ID", "Indonesia", _AP),
    Country("IR", "Iran", _AP),
    Country("JP", "Japan", _AP),
    Country("KI", "Kiribati", _AP),
    Country("LA", "Lao People's Democratic Republic", _AP),
    Country("MY", "Malaysia", _AP),
    Country("MV", "Maldives", _AP),
    Country("MH", "Marshall Islands", _AP),
    Country("FM", "Micronesia", _AP),
    Country("MN", "Mongolia", _AP),
    Country("MM", "Myanmar", _AP),
    Country("NR", "Nauru", _AP),
    Country("NP", "Nepal", _AP),
    Country("NZ", "New Zealand", _AP),
    Country("PK", "Pakistan", _AP),
    Country("PG", "Papua New Guinea", _AP),
    Country("PH", "Philippines", _AP),
    Country("KR", "Republic of Korea", _AP),
    Country("WS", "Samoa", _AP),
    Country("SG", "Singapore", _AP),
    Country("SB", "Solomon Islands", _AP),
    Country("LK", "Sri Lanka", _AP),
    Country("TH", "Thailand", _AP),
    Country("TL", "Timor-Leste", _AP),
    Country("TO", "Tonga", _AP),
    Country("TV", "Tuvalu", _AP),
    Country("VU", "Vanuatu", _AP),
    Country("VN", "Viet Nam", _AP),
    # CIS (10)
    Country("AM", "Armenia", _CIS),
    Country("AZ", "Azerbaijan", _CIS),
    Country("BY", "Belarus", _CIS),
    Country("KZ", "Kazakhstan", _CIS),
    Country("KG", "Kyrgyzstan", _CIS),
    Country("MD", "Moldova", _CIS),
    Country("RU", "Russian Federation", _CIS),
    Country("TJ", "Tajikistan", _CIS),
    Country("TM", "Turkmenistan", _CIS),
    Country("UZ", "Uzbekistan", _CIS),
    # Europe (45)
    Country("AL", "Albania", _EU),
    Country("AD", "Andorra", _EU),
    Country("AT", "Austria", _EU),
    Country("BE", "Belgium", _EU),
    Country("BA", "Bosnia and Herzegovina", _EU),
    Country("BG", "Bulgaria", _EU),
    Country("HR", "Croatia", _EU),
    Country("CY", "Cyprus", _EU),
    Country("CZ", "Czechia", _EU),
    Country("DK", "Denmark", _EU),
    Country("EE", "Estonia", _EU),
    Country("FI", "Finland", _EU),
    Country("FR", "France", _EU),
    Country("GE", "Georgia", _EU),
    Country("DE", "Germany", _EU),
    Country("GR", "Greece", _EU),
    Country("VA", "Holy See", _EU),
    Country("HU", "Hungary", _EU),
    Country("IS", "Iceland", _EU),
    Country("IE", "Ireland", _EU),
    Country("IL", "Israel", _EU),
    Country("IT", "Italy", _EU),
    Country("LV", "Latvia", _EU),
    Country("LI", "Liechtenstein", _EU),
    Country("LT", "Lithuania", _EU),
    Country("LU", "Luxembourg", _EU),
    Country("MT", "Malta", _EU),
    Country("MC", "Monaco", _EU),
    Country("ME", "Montenegro", _EU),
    Country("NL", "Netherlands", _EU),
    Country("MK", "North Macedonia", _EU),
    Country("NO", "Norway", _EU),
    Country("PL", "Poland", _EU),
    Country("PT", "Portugal", _EU),
    Country("RO", "Romania", _EU),
    Country("SM", "San Marino", _EU),
    Country("RS", "Serbia", _EU),
    Country("SK", "Slovakia", _EU),
    Country("SI", "Slovenia", _EU),
    Country("ES", "Spain", _EU),
    Country("SE", "Sweden", _EU),
    Country("CH", "Switzerland", _EU),
    Country("TR", "Türkiye", _EU),
    Country("UA", "Ukraine", _EU),
    Country("GB", "United Kingdom", _EU),
)

# Not ITU Member States. Left out as uninhabited or without a civilian population: AQ
# Antarctica, BV Bouvet Island, GS South Georgia and the South Sandwich Islands, HM Heard Island
# and McDonald Islands, IO British Indian Ocean Territory, TF French Southern Territories, UM
# United States Minor Outlying Islands. XK (Kosovo) is not an ISO 3166-1 code and is left out.
_TERRITORIES: Final[tuple[Country, ...]] = (
    # Africa
    # Mayotte: judgement call; a French department in the Comoros archipelago (Comoros is Arab
    # States), placed by geography with its neighbours Madagascar and Mozambique.
    Country("YT", "Mayotte", _AF),
    Country("RE", "Réunion", _AF),
    Country("SH", "Saint Helena, Ascension and Tristan da Cunha", _AF),
    # Western Sahara: judgement call; not in the League of Arab States (Morocco claims it, the
    # Sahrawi Republic is an African Union member), so Africa as in UN M49 (Northern Africa).
    Country("EH", "Western Sahara", _AF),
    # Americas. French Guiana, Guadeloupe and Martinique are French departments and the Dutch
    # Caribbean islands part of the Kingdom of the Netherlands, but ITU/UN statistics place them
    # in the Americas with the rest of the Caribbean and South America.
    Country("AI", "Anguilla", _AM),
    Country("AW", "Aruba", _AM),
    Country("BM", "Bermuda", _AM),
    Country("BQ", "Bonaire, Sint Eustatius and Saba", _AM),
    Country("VG", "British Virgin Islands", _AM),
    Country("KY", "Cayman Islands", _AM),
    Country("CW", "Curaçao", _AM),
    Country("FK", "Falkland Islands (Malvinas)", _AM),
    Country("GF", "French Guiana", _AM),
    # Greenland: judgement call; part of the Kingdom of Denmark (Europe) but North American by
    # geography and in UN M49's Northern America.
    Country("GL", "Greenland", _AM),
    Country("GP", "Guadeloupe", _AM),
    Country("MQ", "Martinique", _AM),
    Country("MS", "Montserrat", _AM),
    Country("PR", "Puerto Rico", _AM),
    Country("BL", "Saint Barthélemy", _AM),
    Country("MF", "Saint Martin (French part)", _AM),
    Country("PM", "Saint Pierre and Miquelon", _AM),
    Country("SX", "Sint Maarten (Dutch part)", _AM),
    Country("TC", "Turks and Caicos Islands", _AM),
    Country("VI", "United States Virgin Islands", _AM),
    # Arab States: Palestine is a member of the League of Arab States and an ITU observer,
    # and takes part in ITU's Arab regional work.
    Country("PS", "Palestine", _AR),
    # Asia & Pacific
    Country("AS", "American Samoa", _AP),
    Country("CX", "Christmas Island", _AP),
    Country("CC", "Cocos (Keeling) Islands", _AP),
    Country("CK", "Cook Islands", _AP),
    Country("PF", "French Polynesia", _AP),
    Country("GU", "Guam", _AP),
    Country("HK", "Hong Kong, China", _AP),
    Country("MO", "Macao, China", _AP),
    Country("NC", "New Caledonia", _AP),
    Country("NU", "Niue", _AP),
    Country("NF", "Norfolk Island", _AP),
    Country("MP", "Northern Mariana Islands", _AP),
    # Palau is a UN member but not an ITU Member State.
    Country("PW", "Palau", _AP),
    Country("PN", "Pitcairn", _AP),
    # Taiwan: named as in ISO 3166-1 and UN usage.
    Country("TW", "Taiwan, Province of China", _AP),
    Country("TK", "Tokelau", _AP),
    Country("WF", "Wallis and Futuna", _AP),
    # Europe
    Country("AX", "Åland Islands", _EU),
    Country("FO", "Faroe Islands", _EU),
    Country("GI", "Gibraltar", _EU),
    Country("GG", "Guernsey", _EU),
    Country("IM", "Isle of Man", _EU),
    Country("JE", "Jersey", _EU),
    Country("SJ", "Svalbard and Jan Mayen", _EU),
)

COUNTRIES: Final[dict[str, Country]] = {c.code: c for c in (*_MEMBER_STATES, *_TERRITORIES)}
"""Every known country and territory, by upper-case ISO 3166-1 alpha-2 code."""

ITU_MEMBER_STATES: Final[frozenset[str]] = frozenset(c.code for c in _MEMBER_STATES)
"""The codes of the 193 ITU Member States (the rest of `COUNTRIES` are territories)."""


def country(code: str) -> Country:
    """The country with ISO 3166-1 alpha-2 `code`, case-insensitive, surrounding whitespace ignored.

    Raises `UnknownCountry` (a `ValueError`) if the code is not two ASCII letters or not in the
    table.
    """
    key = _table_key(code)
    if key is None:
        raise UnknownCountry(
            f"unknown country code {code!r}: expected a two-letter ISO 3166-1 alpha-2 code "
            "such as 'KE' or 'BR'"
        )
    found = COUNTRIES.get(key)
    if found is None:
        raise UnknownCountry(
            f"unknown country code {code!r}: not an ITU Member State or a known territory"
        )
    return found


def _table_key(code: str) -> str | None:
    """`code` as a key of `COUNTRIES`, or None if it is not two ASCII letters.

    Checked before upper-casing: Unicode upper-cases some letters to ASCII ones ("ß" to "SS",
    the ligature "ﬅ" to "ST", the dotless "ı" to "I"), which would read them as real codes.
    """
    key = code.strip()
    if len(key) != 2 or not key.isascii() or not key.isalpha():
        return None
    return key.upper()


def region_of(code: str) -> Region:
    """The ITU region of the country with ISO 3166-1 alpha-2 `code` (see `country`)."""
    return country(code).region


def known_region(code: str | None) -> Region | None:
    """The ITU region of `code`, or None for no code or a code not in the table (for derived,
    display-only fields of data whose country was never checked)."""
    key = _table_key(code) if code else None
    found = COUNTRIES.get(key) if key is not None else None
    return found.region if found is not None else None


CountryCode = Annotated[str, AfterValidator(lambda code: country(code).code)]
"""A field or query parameter holding a country: any case and spacing in, the canonical code out
("ke " is KE), an unknown one a 422 that says so."""
