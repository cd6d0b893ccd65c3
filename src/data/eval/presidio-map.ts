/**
 * How the 17 entity types of Presidio's synthetic set (presidio-research's
 * synth_dataset_v2.json) map to ours. Honest mapping, decided from the types'
 * definitions, not from scores:
 * - PERSON→PERSON, PHONE_NUMBER→PHONE, EMAIL_ADDRESS→EMAIL, CREDIT_CARD→CARD,
 *   US_SSN→SSN, IBAN_CODE→BANK_ACCOUNT, US_DRIVER_LICENSE→ID: the same thing.
 * - STREET_ADDRESS→ADDRESS and ZIP_CODE→ADDRESS: a postcode is part of an address.
 * - DATE_TIME→DATE: the set has no date-of-birth label; its DATE_TIME mixes birth dates,
 *   timestamps, bare years and weekdays. We remove full dates (as DATE or
 *   DATE_OF_BIRTH), keep bare years and weekdays, and report DATE as a non-mission type.
 *   Our DATE_OF_BIRTH recall therefore cannot be measured on this set.
 * - GPE→LOCATION, IP_ADDRESS→IP, DOMAIN_NAME→URL: removed, not mission types.
 * - AGE, ORGANIZATION, TITLE, NRP (nationality, religion, politics): not removed (not
 *   identifying on their own); a span we remove over them counts against precision.
 */
import type { EntityType } from "../clean/types.js";

export const PRESIDIO_TO_OURS: Readonly<Record<string, EntityType | null>> = {
  PERSON: "PERSON",
  PHONE_NUMBER: "PHONE",
  EMAIL_ADDRESS: "EMAIL",
  CREDIT_CARD: "CARD",
  US_SSN: "SSN",
  IBAN_CODE: "BANK_ACCOUNT",
  US_DRIVER_LICENSE: "ID",
  STREET_ADDRESS: "ADDRESS",
  ZIP_CODE: "ADDRESS",
  DATE_TIME: "DATE",
  GPE: "LOCATION",
  IP_ADDRESS: "IP",
  DOMAIN_NAME: "URL",
  AGE: null,
  ORGANIZATION: null,
  TITLE: null,
  NRP: null,
};
