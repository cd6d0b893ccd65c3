import { describe, expect, it } from "vitest";
import { ByteColumn } from "./byte-column.js";

const entry = (i: number, width: number): Uint8Array => Uint8Array.from({ length: width }, (_, j) => (i * 7 + j) & 0xff);

describe("ByteColumn", () => {
  it("gives back every entry it was given, across chunk boundaries", () => {
    const col = new ByteColumn(32, 4);
    for (let i = 0; i < 37; i++) expect(col.push(entry(i, 32))).toBe(i);
    expect(col.length).toBe(37);
    for (let i = 0; i < 37; i++) expect(col.at(i)).toEqual(entry(i, 32));
  });

  it("keeps a view valid while the column grows, and copies what it is given", () => {
    const col = new ByteColumn(2, 2);
    const given = Uint8Array.of(1, 2);
    col.push(given);
    const view = col.view(0);
    given[0] = 9;
    for (let i = 1; i < 50; i++) col.push(entry(i, 2));
    expect([...view]).toEqual([1, 2]);
    const copy = col.at(0);
    copy[1] = 7;
    expect([...col.view(0)]).toEqual([1, 2]);
  });

  it("refuses entries of another width and indices outside it", () => {
    const col = new ByteColumn(32);
    expect(() => col.push(new Uint8Array(31))).toThrow(RangeError);
    col.push(new Uint8Array(32));
    for (const i of [-1, 1, 0.5, Number.NaN]) expect(() => col.view(i)).toThrow(RangeError);
    expect(() => new ByteColumn(0)).toThrow(RangeError);
  });
});
