/** The fixed word lists of the names layer (general English usage, not from any data set). */
export const TITLES = new Set(["mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "sir", "dame", "madam", "madame", "mme", "mlle", "herr", "frau", "sr", "sra", "srta", "rev", "fr", "capt", "captain", "lord", "lady", "sgt", "officer", "judge", "señor", "señora", "signor", "signora"]);
/** Self-introductions and greetings right before a word: a lower-case word there no English list has is a name ("my name is dagny"). */
export const INTRODUCED_BEFORE = /\b(?:my name is|name is|call me|this is|named|called|hi|hello|hey|dear)\s+$/i;
/** An Arabic article joined to a capitalised name ("al-Mansouri", "el-Amin"): the word is capitalised. */
export const JOINED_ARTICLE = /^(?:al|el|ad|ar|as|ash|at|az|ud|ul)-\p{Lu}/u;
/** Titles written abbreviated: a lower-case word after one is still a name ("mr. kowalczyk"). */
export const ABBREVIATED_TITLES = new Set(["mr", "mrs", "ms", "mx", "dr", "prof", "sr", "sra", "srta", "mme", "mlle"]);
export const PARTICLES = new Set(["van", "von", "der", "den", "de", "del", "della", "da", "di", "du", "la", "le", "dos", "das", "bin", "bint", "binti", "ibn", "al", "el", "ter", "ten"]);
export const SUFFIXES = new Set(["jr", "sr", "ii", "iii", "iv", "md", "phd", "esq", "dds", "rn"]);
export const ORG_WORDS = new Set(["inc", "ltd", "llc", "llp", "plc", "gmbh", "ag", "corp", "corporation", "company", "co", "group", "controls", "systems", "technologies", "technology", "bank", "university", "college", "foundation", "associates", "partners", "consulting", "solutions", "labs", "laboratories", "industries", "holdings", "motors", "airlines", "insurance", "media", "capital", "ventures", "services", "software", "networks", "pharmaceuticals", "institute", "hospital", "clinic", "school", "press", "records", "studios", "enterprises", "international", "global", "trust", "fund", "agency", "council", "ministry", "department", "association", "society", "church", "hotel", "restaurant", "cafe", "store", "stores", "electric", "energy", "foods", "brothers", "sons", "analytics", "health", "financial", "investments", "logistics", "transit", "orchestra", "band", "club", "research", "center", "centre", "street", "avenue", "road", "lane", "boulevard"]);
/** Words that look like names in some list but in our texts are the words for identifiers. */
export const NOT_NAMES = new Set(["iban", "ssn", "ip", "dob", "mrn", "pin", "id", "url", "email", "fax", "tel", "apt", "suite", "po", "box", "zip", "usa", "uk", "eu", "ceo", "cto", "bot", "name", "phone", "address", "date", "number", "card", "code", "ok", "okay", "yes", "no", "hi", "hello", "dear", "thanks", "i'm", "i’m", "c'mon", "y'all", "ma'am", "i've", "i'd", "i'll", "he", "she", "it", "we", "they", "i", "you", "his", "her", "him", "them", "our", "your", "my", "me", "us"]);
/**
 * Text right before a person's name (run once over a document; a cue ends where a name may
 * start). A role word ("manager", "cousin") counts only on the same line: at a line's end
 * in a signature it is followed by the company.
 */
export const PERSON_CUE_BEFORE = /\b(?:(?:name\?|name on the [a-z]+\?|user:|named (?:him|her|them)|call me|kid|child|baby|my name is|name is|named|called|name:|names? are|i'm|i am|this is|(?:dear|hi|hello|hey|thanks|thank you|good (?:morning|afternoon|evening|night)|welcome|bye|goodbye|cheers|congratulations|congrats),?|signed|regards,?|sincerely,?|contact|ask for|assistant to|speak to|speak with|married|wife|husband|son|daughter|mother|father|brother|sister|friend|patient|client|author|written by|directed by:?|sung by|produced by|featuring|features|correct it to|change it to|under|add|given|with|by|producer|singer|actor|actress|dr\.?|mr\.?|mrs\.?|ms\.?|asked|told|replied|wrote to|starring|starred|nicknamed|according to|interviewed|thanked|congratulated|attn:?|attention:?|cc:|from:|to:|signed by|approved by|reviewed by|prepared by|assigned to|ask|tell|remind|invite|e-?mail|ping|message|call|text|meet|met|best wishes,?|kind regards,?|cheers,?)\s*|(?:boss|manager|colleague|neighbou?r|teacher|doctor|nurse|coach|uncle|aunt|cousin|niece|nephew|grand(?:mother|father|ma|pa|son|daughter)|boyfriend|girlfriend|fiancée?|roommate|landlord|tenant|cardholder|account holder|applicant|employee|sender|recipient)[ \t]+)["“]?/gi;
/** Text right after a person's name. */
export const PERSON_CUE_AFTER = /^(?:['’]s\b|:\s*["“]|,\s+(?:who|whose|aged?\s+\d{1,3}|\d{1,3},)|\s+\(\d{1,3}\)|\s+(?:lives|lived|said|says|told|tells|wrote|writes|is from|was born|works|worked|will be|has been|had|spent|explained|asked|replied|called|met|married|is a \d|was a \d|and (?:i|me|my)\b)|\s+(?:who|whose|himself|herself|smiled|laughed|nodded|shouted|whispered|thinks|thought|believes|loves|loved|wants|wanted|graduated|died|passed away)\b)/i;
/**
 * Surname endings of many languages: Slavic (-ov, -ova, -ski, -ska, -wicz, -enko, -ić),
 * Nordic (-sson, -sen, -dóttir), Greek (-poulos, -akis), Romanian (-escu), Armenian
 * (-yan, -ian), Georgian (-shvili, -dze), Turkish (-oğlu), Italian (-ini, -elli, -ucci),
 * Japanese (-yama, -moto, -mura), Persian (-zadeh), German/Jewish (-stein, -mann).
 */
export const SURNAME_ENDING = /(?:ov|ova|ev|eva|ovic|ovich|ovna|evna|ski|ska|sky|skaya|skiy|wicz|czyk|czak|enko|chuk|ić|vić|ič|sson|son|sen|dóttir|dottir|poulos|akis|idis|escu|eanu|yan|ian|shvili|dze|oğlu|oglu|ini|elli|etti|ucci|otti|yama|moto|mura|shita|zadeh|stein|mann|berg|quist|qvist|ström|lund|gren|ez|az|inho|eira|ão)$/;
/** A personal pronoun after an unknown proper noun: it names a person, not a company ("it"). */
export const PERSON_PRONOUN = /\b(?:he|she|him|her|his|hers|himself|herself)\b/i;
/** A sentence that speaks to someone ("Anna, can you ..."): a proper noun before its comma is a vocative. */
export const VOCATIVE_REST = /^,\s[^.!?\n]*\b(?:you|your|i|me|we|us)\b/i;
/** A verb of saying right before a word: a name there ends the clause ("... says Hauta-aho.", "said Erle to me"), a subject does not ("said Postgres is faster"). */
export const SAID_BEFORE = /\b(?:said|says)\s+$/i;
export const SAID_NAME_AFTER = /^(?:\s*$|\s*[.,!?;:"”)]|\s+(?:to|that)\b)/i;
/** Prepositions of place before a word that is both a listed name and a place: the place ("works in London"). */
export const PLACE_PREPOSITIONS = new Set(["in", "at", "from", "near", "into", "across", "around", "outside", "inside", "toward", "towards", "via"]);
/**
 * The name-likeness scorer's log-odds a lone unknown capitalised word needs to be a
 * person (name-likely.ts); chosen on the tuning split only.
 */
export const NAME_LIKELY_MIN_LOGIT = 2;
/** Words right before a lone unknown word that make it a thing, not a person ("using Zalando", "version Kestrel", "her Allianz pension"). */
export const THING_BEFORE = new Set(["the", "a", "an", "using", "use", "uses", "used", "via", "version", "install", "installed", "run", "running", "app", "on", "at", "for", "my", "your", "his", "her", "its", "our", "their"]);
