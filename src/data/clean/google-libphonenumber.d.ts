// The parts of google-libphonenumber (Apache-2.0) the phone layer uses; the package ships no types.
declare module "google-libphonenumber" {
  interface PhoneNumber {
    getCountryCode(): number | undefined;
  }
  interface PhoneNumberUtil {
    parseAndKeepRawInput(number: string, region: string): PhoneNumber;
    isValidNumber(n: PhoneNumber): boolean;
    isPossibleNumber(n: PhoneNumber): boolean;
    getSupportedRegions(): string[];
  }
  const lib: { PhoneNumberUtil: { getInstance(): PhoneNumberUtil } };
  export { lib as default };
}
