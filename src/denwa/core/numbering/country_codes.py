"""ITU-T E.164 assigned country calling codes.

This is the list of country calling codes assigned under ITU-T Recommendation
E.164, as published in the "List of ITU-T Recommendation E.164 assigned
country codes" (the complement to E.164 maintained by the ITU TSB and kept
current through the ITU Operational Bulletin).  It is used to split a number
dialled with the 010 international prefix into its country code and its
national (significant) number.

The set of codes is prefix-free: no assigned code is a prefix of another
assigned code (for example 1 and 7 are assigned, so no code beginning with 1
or 7 exists; 44 is assigned, so 44x is never a code).  That property is what
makes splitting unambiguous: reading the dialled digits left to right, the
first assigned code met is the country code.

Included are geographic codes, codes shared by several countries or areas
(1 NANP, 7 Russia / Kazakhstan, 262, 590, 599, 672 ...), and the global
services (800, 808, 870, 878, 881, 882, 883, 888, 979, 991).  Spare,
withdrawn and merely reserved codes are left out, among them 28x, 210,
214/215/217/219, 259, 292-296, 384, 388 (ETNS, withdrawn), 422, 424-429,
671 (Guam, moved into NANP), 684 (American Samoa, moved into NANP), 693-699,
801-807, 809, 83x, 851, 854, 857-859, 871-874 (former Inmarsat ocean regions),
875-877 and 879 (reserved), 884/885/887/889, 89x, 969, 978, 990, 997
(reserved for Kazakhstan in 2021, never brought into use) and 999.
"""

from __future__ import annotations

COUNTRY_CODES: dict[str, str] = {
    # Zone 1 -- North American Numbering Plan
    "1": "North America (NANP)",
    # Zone 2 -- mostly Africa
    "20": "Egypt",
    "211": "South Sudan",
    "212": "Morocco",
    "213": "Algeria",
    "216": "Tunisia",
    "218": "Libya",
    "220": "Gambia",
    "221": "Senegal",
    "222": "Mauritania",
    "223": "Mali",
    "224": "Guinea",
    "225": "Cote d'Ivoire",
    "226": "Burkina Faso",
    "227": "Niger",
    "228": "Togo",
    "229": "Benin",
    "230": "Mauritius",
    "231": "Liberia",
    "232": "Sierra Leone",
    "233": "Ghana",
    "234": "Nigeria",
    "235": "Chad",
    "236": "Central African Republic",
    "237": "Cameroon",
    "238": "Cape Verde",
    "239": "Sao Tome and Principe",
    "240": "Equatorial Guinea",
    "241": "Gabon",
    "242": "Congo",
    "243": "Democratic Republic of the Congo",
    "244": "Angola",
    "245": "Guinea-Bissau",
    "246": "Diego Garcia",
    "247": "Ascension",
    "248": "Seychelles",
    "249": "Sudan",
    "250": "Rwanda",
    "251": "Ethiopia",
    "252": "Somalia",
    "253": "Djibouti",
    "254": "Kenya",
    "255": "Tanzania",
    "256": "Uganda",
    "257": "Burundi",
    "258": "Mozambique",
    "260": "Zambia",
    "261": "Madagascar",
    "262": "Reunion / Mayotte",
    "263": "Zimbabwe",
    "264": "Namibia",
    "265": "Malawi",
    "266": "Lesotho",
    "267": "Botswana",
    "268": "Eswatini",
    "269": "Comoros",
    "27": "South Africa",
    "290": "Saint Helena / Tristan da Cunha",
    "291": "Eritrea",
    "297": "Aruba",
    "298": "Faroe Islands",
    "299": "Greenland",
    # Zone 3 -- Europe
    "30": "Greece",
    "31": "Netherlands",
    "32": "Belgium",
    "33": "France",
    "34": "Spain",
    "350": "Gibraltar",
    "351": "Portugal",
    "352": "Luxembourg",
    "353": "Ireland",
    "354": "Iceland",
    "355": "Albania",
    "356": "Malta",
    "357": "Cyprus",
    "358": "Finland",
    "359": "Bulgaria",
    "36": "Hungary",
    "370": "Lithuania",
    "371": "Latvia",
    "372": "Estonia",
    "373": "Moldova",
    "374": "Armenia",
    "375": "Belarus",
    "376": "Andorra",
    "377": "Monaco",
    "378": "San Marino",
    "379": "Vatican City (assigned, not in use; Vatican is reached via 39)",
    "380": "Ukraine",
    "381": "Serbia",
    "382": "Montenegro",
    "383": "Kosovo",
    "385": "Croatia",
    "386": "Slovenia",
    "387": "Bosnia and Herzegovina",
    "389": "North Macedonia",
    "39": "Italy",
    # Zone 4 -- Europe
    "40": "Romania",
    "41": "Switzerland",
    "420": "Czech Republic",
    "421": "Slovakia",
    "423": "Liechtenstein",
    "43": "Austria",
    "44": "United Kingdom",
    "45": "Denmark",
    "46": "Sweden",
    "47": "Norway",
    "48": "Poland",
    "49": "Germany",
    # Zone 5 -- Central and South America
    "500": "Falkland Islands",
    "501": "Belize",
    "502": "Guatemala",
    "503": "El Salvador",
    "504": "Honduras",
    "505": "Nicaragua",
    "506": "Costa Rica",
    "507": "Panama",
    "508": "Saint Pierre and Miquelon",
    "509": "Haiti",
    "51": "Peru",
    "52": "Mexico",
    "53": "Cuba",
    "54": "Argentina",
    "55": "Brazil",
    "56": "Chile",
    "57": "Colombia",
    "58": "Venezuela",
    "590": "Guadeloupe / Saint Martin / Saint Barthelemy",
    "591": "Bolivia",
    "592": "Guyana",
    "593": "Ecuador",
    "594": "French Guiana",
    "595": "Paraguay",
    "596": "Martinique",
    "597": "Suriname",
    "598": "Uruguay",
    "599": "Curacao / Caribbean Netherlands",
    # Zone 6 -- Southeast Asia and Oceania
    "60": "Malaysia",
    "61": "Australia",
    "62": "Indonesia",
    "63": "Philippines",
    "64": "New Zealand",
    "65": "Singapore",
    "66": "Thailand",
    "670": "Timor-Leste",
    "672": "Australian External Territories (Norfolk Island / Antarctica)",
    "673": "Brunei",
    "674": "Nauru",
    "675": "Papua New Guinea",
    "676": "Tonga",
    "677": "Solomon Islands",
    "678": "Vanuatu",
    "679": "Fiji",
    "680": "Palau",
    "681": "Wallis and Futuna",
    "682": "Cook Islands",
    "683": "Niue",
    "685": "Samoa",
    "686": "Kiribati",
    "687": "New Caledonia",
    "688": "Tuvalu",
    "689": "French Polynesia",
    "690": "Tokelau",
    "691": "Micronesia",
    "692": "Marshall Islands",
    # Zone 7 -- Russia and Kazakhstan
    "7": "Russia / Kazakhstan",
    # Zone 8 -- East Asia and global services
    "800": "International Freephone",
    "808": "International Shared Cost Service",
    "81": "Japan",
    "82": "South Korea",
    "84": "Vietnam",
    "850": "North Korea",
    "852": "Hong Kong",
    "853": "Macau",
    "855": "Cambodia",
    "856": "Laos",
    "86": "China",
    "870": "Inmarsat",
    "878": "Universal Personal Telecommunications",
    "880": "Bangladesh",
    "881": "Global Mobile Satellite System",
    "882": "International Networks",
    "883": "International Networks",
    "886": "Taiwan",
    "888": "Telecommunications for Disaster Relief (OCHA)",
    # Zone 9 -- West, Central and South Asia
    "90": "Turkey",
    "91": "India",
    "92": "Pakistan",
    "93": "Afghanistan",
    "94": "Sri Lanka",
    "95": "Myanmar",
    "960": "Maldives",
    "961": "Lebanon",
    "962": "Jordan",
    "963": "Syria",
    "964": "Iraq",
    "965": "Kuwait",
    "966": "Saudi Arabia",
    "967": "Yemen",
    "968": "Oman",
    "970": "Palestine",
    "971": "United Arab Emirates",
    "972": "Israel",
    "973": "Bahrain",
    "974": "Qatar",
    "975": "Bhutan",
    "976": "Mongolia",
    "977": "Nepal",
    "979": "International Premium Rate Service",
    "98": "Iran",
    "991": "ITPCS trial service",
    "992": "Tajikistan",
    "993": "Turkmenistan",
    "994": "Azerbaijan",
    "995": "Georgia",
    "996": "Kyrgyzstan",
    "998": "Uzbekistan",
}


def split_country_code(digits: str) -> tuple[str, str] | None:
    """Split internationally dialled digits into country code and national number.

    ``digits`` are the digits dialled after the 010 international prefix
    (digits only, no ``+``, spaces or punctuation).  Because the assigned
    country codes are prefix-free, at most one of them is a prefix of
    ``digits``; it is found by trying the 1-, 2- and 3-digit prefixes in turn.

    Returns ``(country_code, national_significant_number)`` -- for example
    ``"442071234567"`` gives ``("44", "2071234567")`` -- or ``None`` when no
    assigned country code is a prefix of ``digits`` (a spare code, or fewer
    digits than any code needs).  The national number may be empty if only
    the country code was dialled.
    """
    for length in (1, 2, 3):
        if len(digits) < length:
            break
        code = digits[:length]
        if code in COUNTRY_CODES:
            return code, digits[length:]
    return None
