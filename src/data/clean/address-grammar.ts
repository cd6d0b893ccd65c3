/**
 * The address layer's grammar pieces (regular expressions over Unicode letters). Built
 * twice: for ordinary text, where street and place names are capitalised, and for text
 * written all in lower case, where any word may be one.
 */
export const NUM = String.raw`\d{1,6}[A-Za-z]?(?:[-/]\d{1,4}[A-Za-z]?)?`;
// Words that name a street's type before or between its name words (rue de la X,
// ul. X, Via X, Avenue X; Hungarian X tér / X u. / X utca; Norwegian X terrasse ...).
export const STREET_TYPE_WORDS = [
  "rue", "via", "viale", "vicolo", "corso", "largo", "piazza", "piazzale", "strada", "contrada",
  "calle", "carrer", "avenida", "av.", "avenue", "rua", "travessa", "praça", "paseo", "plaza",
  "rambla", "camino", "chemin", "allée", "impasse", "quai", "place", "boulevard", "bd.",
  "calea", "aleja", "al.", "ulica", "ul.", "pl.", "os.", "ulitsa", "ut.", "prospekt", "pr.",
  "utca", "út", "u.", "tér", "körút", "krt.", "rkp.", "kapu", "sor", "köz", "fasor", "sétány",
  "iela", "gatve", "straße", "strasse", "str.", "str", "gasse", "platz", "weg", "terrasse",
  "vei", "vej", "gate", "gata", "gade", "allé", "náměstí", "nám.", "třída", "ulice", "cesta",
  "trg", "λ.", "οδός", "λεωφόρος",
];
const esc = (w: string): string => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
export const STREET_TYPE_RE = new RegExp(`^(?:${STREET_TYPE_WORDS.map(esc).join("|")})$`, "iu");
export const TYPE_ALT = STREET_TYPE_WORDS.map(esc).join("|");
export const PARTICLE_ALT = "de|del|dei|degli|della|delle|dello|la|le|les|du|des|da|di|do|dos|das|van|von|der|den|am|an|auf|y|e|st\\.?";
export const UNIT_WORDS = "Apt|Apartment|Suite|Ste|Unit|Flat|Floor|Fl|Room|Rm|Box|Bldg|Building";

export interface Grammar {
  readonly lead: RegExp;
  /** Sticky: tried only at word starts a few words before a house number (see trailMatches). */
  readonly trail: RegExp;
  readonly corner: RegExp;
  readonly placeAt: RegExp;
}

export function grammar(caseless: boolean): Grammar {
  const upper = caseless ? "\\p{L}" : "\\p{Lu}";
  // A street name word: capitalised (or any word in lower-case text), not a unit word.
  const name = String.raw`(?!(?:${UNIT_WORDS})\b)${upper}[\p{L}\p{M}'’-]*\.?`;
  const type = String.raw`(?:${TYPE_ALT})(?![\p{L}])`;
  const word = String.raw`(?:${type}|${name})`;
  const inner = String.raw`(?:${type}|${name}|(?:${PARTICLE_ALT})(?![\p{L}]))`;
  // First word is a name or a street type, never a particle ("of Beiteveien 2").
  const words = String.raw`(${word}(?:[ \t]+${inner}){0,5})`;
  const flags = caseless ? "giu" : "gu";
  return {
    // Sticky: tried only at digit-run starts (see leadMatches).
    lead: new RegExp(String.raw`(?=\d)(?<![\w/-])(${NUM})\s+(?:(${NUM})\s+)?${words}(?:[ \t]+(${NUM})\.?)?(?![\p{L}\d])`, caseless ? "iuy" : "uy"),
    trail: new RegExp(String.raw`(?=\p{L})(?<![\p{L}\d/.-])()()${words}[ \t]+(${NUM})\.?(?![\p{L}\d])`, caseless ? "iuy" : "uy"),
    corner: new RegExp(String.raw`(?:\bthe\s+)?\b(?:corner|intersection|junction) of\s+((?:${NUM}\s+)?${word}(?:[ \t]+${inner}){0,5}(?:[ \t]+${NUM}\.?)?)\s+(?:and|&)\s+((?:${NUM}\s+)?${word}(?:[ \t]+${inner}){0,5}(?:[ \t]+${NUM}\.?)?)`, flags),
    placeAt: new RegExp(String.raw`^(?:${upper}[\p{L}\p{M}'’.-]*)(?:[ -](?:${upper}[\p{L}\p{M}'’.-]*|\([^)\n]{1,30}\)|de|di|del|la|le|sur|am|an|upon|on|en|im|bei|nad|pod))*`, caseless ? "iu" : "u"),
  };
}
