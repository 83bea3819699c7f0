import { Type, type TSchema } from '@sinclair/typebox';

// Request and response shapes of the six models: used to validate bodies (validate.ts), to type the
// presenters and to describe the API in the OpenAPI document.

const MAX = Number.MAX_SAFE_INTEGER;
const strict = { additionalProperties: false } as const;

export const Id = Type.Integer({ minimum: 1, maximum: MAX });
export const Int = Type.Integer({ minimum: -MAX, maximum: MAX });
// Every text field has a maximum length, the same on both databases (docs/dreamspace.md, "Limits"). Short
// ones are the indexed columns: PostgreSQL refuses an index entry over 2,704 bytes, and 255 characters are
// at most 1,020 bytes of UTF-8. Free text may be longer; document images are bounded by the body limit.
export const MAX_SHORT_TEXT = 255;
export const MAX_LONG_TEXT = 65_536;
export const MAX_DOCUMENT_DATA = 16 * 1024 * 1024;
const AnyText = Type.String({ maxLength: MAX_LONG_TEXT });
const ShortText = Type.String({ maxLength: MAX_SHORT_TEXT });
// The one text that may not be empty: "" is no Twitch ID, and as the key POST /users upserts by, it would make
// every client that sends it update one shared user (a user without a Twitch ID has null).
const TwitchId = Type.String({ minLength: 1, maxLength: MAX_SHORT_TEXT, description: 'Twitch user ID (a string, not empty)' });
const Timestamp = Type.String({
  maxLength: 64,
  description: 'ISO 8601 date or date-time; without an offset it is read in the server time zone',
  examples: ['2025-06-08T20:12:00+10:00'],
});

/** A field that also accepts null. A type list rather than a union, so that errors stay readable. */
function Nullable<T extends TSchema>(schema: T) {
  const { type, ...rest } = schema as unknown as { type: string };
  return Type.Unsafe<T['static'] | null>({ ...rest, type: [type, 'null'] });
}

// ---- users
const userFields = {
  twitch_id: TwitchId,
  name: ShortText,
  preferences: Type.Optional(Nullable(AnyText)),
};
export const UserCreate = Type.Object(userFields, { ...strict, description: 'Creates a user, or updates the user with this twitch_id' });
export const UserPatch = Type.Object(
  { twitch_id: Type.Optional(Nullable(TwitchId)), name: Type.Optional(ShortText), preferences: Type.Optional(Nullable(AnyText)) },
  strict,
);

// ---- transactions
const transactionFields = {
  amount: Int,
  description: AnyText,
  reference: Type.Optional(Nullable(AnyText)),
};
export const TransactionCreate = Type.Object({ user_id: Id, ...transactionFields }, strict);
export const TransactionCreateScoped = Type.Object({ user_id: Type.Optional(Id), ...transactionFields }, strict);

// ---- specimens
export const SpecimenCreate = Type.Object(
  {
    owner_id: Type.Optional(Id),
    owner: Type.Optional(UserCreate),
    born_at: Type.Optional(Timestamp),
    forgotten_at: Type.Optional(Nullable(Timestamp)),
  },
  { ...strict, description: 'Give owner_id, or an owner object (upserted by twitch_id), not both' },
);
export const SpecimenPatch = Type.Object(
  { owner_id: Type.Optional(Id), forgotten_at: Type.Optional(Nullable(Timestamp)) },
  strict,
);

// ---- stamps and documents
const Position = Type.Integer({ minimum: -2147483648, maximum: 2147483647 });
const stampFields = {
  stamp_type: ShortText,
  pos_x: Position,
  pos_y: Position,
  rotation: Type.Optional(Type.Number({ description: 'Radians (default 0)' })),
};
export const StampNested = Type.Object(stampFields, strict);
export const StampCreate = Type.Object({ document_id: Id, ...stampFields }, strict);
export const StampCreateScoped = Type.Object({ document_id: Type.Optional(Id), ...stampFields }, strict);
/** A PUT list is one transaction: keep it to a size that stays quick on both dialects. */
export const MAX_STAMPS_PER_PUT = 10_000;
export const StampList = Type.Array(StampCreate, { maxItems: MAX_STAMPS_PER_PUT });
export const StampListScoped = Type.Array(StampCreateScoped, { maxItems: MAX_STAMPS_PER_PUT });
export const StampPatch = Type.Object(
  {
    document_id: Type.Optional(Id),
    stamp_type: Type.Optional(ShortText),
    pos_x: Type.Optional(Position),
    pos_y: Type.Optional(Position),
    rotation: Type.Optional(Type.Number()),
  },
  strict,
);

// "" is valid (RFC 4648: BASE64("") = ""): what the clients' encoders give for an empty image.
const Base64 = Type.String({ maxLength: MAX_DOCUMENT_DATA, description: 'Base64-encoded image (RFC 4648, standard alphabet, padded)' });
export const DocumentCreate = Type.Object(
  {
    document_data: Base64,
    seal: Int,
    metadata: Type.Optional(Nullable(AnyText)),
    stamps: Type.Optional(Type.Array(StampNested)),
  },
  strict,
);
export const DocumentPatch = Type.Object(
  {
    document_data: Type.Optional(Base64),
    seal: Type.Optional(Int),
    metadata: Type.Optional(Nullable(AnyText)),
    stamps: Type.Optional(Type.Array(StampNested, { description: 'Replaces all the stamps of the document' })),
  },
  strict,
);

// ---- events
export const EVENT_TYPES = ['plain', 'subscriber', 'cheer', 'raid'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const eventTypeFields = {
  message: Type.Optional(Nullable(AnyText)),
  tier: Type.Optional(Int),
  subscribed_length: Type.Optional(Int),
  amount: Type.Optional(Int),
  viewer_count: Type.Optional(Int),
};
const eventCreateFields = {
  event_type: Type.String({ enum: [...EVENT_TYPES] }),
  user_id: Type.Optional(Nullable(Id)),
  user: Type.Optional(UserCreate),
  user_name: Type.Optional(Nullable(ShortText)),
  occurred_at: Timestamp,
  document_id: Type.Optional(Nullable(Id)),
  document: Type.Optional(DocumentCreate),
  ...eventTypeFields,
};
export const EventCreate = Type.Object(eventCreateFields, {
  ...strict,
  description:
    'plain: message required; subscriber: tier and subscribed_length required, message optional; ' +
    'cheer: amount required, message optional; raid: viewer_count required. ' +
    'user and document objects are created (the user upserted by twitch_id) in the same transaction.',
});
export const EventCreateScoped = Type.Object({ ...eventCreateFields }, strict);
export const EventPatch = Type.Object(
  {
    user_id: Type.Optional(Nullable(Id)),
    user_name: Type.Optional(Nullable(ShortText)),
    occurred_at: Type.Optional(Timestamp),
    document_id: Type.Optional(Nullable(Id)),
    ...eventTypeFields,
  },
  strict,
);

// ---- responses (documentation and presenter types)
const Time = Type.String({ format: 'date-time' });
export const UserOut = Type.Object({
  user_id: Id,
  twitch_id: Type.Union([Type.String(), Type.Null()]),
  name: Type.String(),
  preferences: Type.Union([Type.String(), Type.Null()]),
  created_at: Time,
});
export const SpecimenBrief = Type.Object({
  specimen_id: Id,
  owner_id: Id,
  born_at: Time,
  forgotten_at: Type.Union([Time, Type.Null()]),
});
export const UserFullOut = Type.Composite([
  UserOut,
  Type.Object({
    specimen: Type.Union([SpecimenBrief, Type.Null()], { description: 'The current (not forgotten) specimen' }),
    inventory: Type.Array(Type.Unknown(), { description: 'Always empty: there is no item model' }),
    wallet: Type.Union([Type.Integer(), Type.Null()], { description: 'Sum of the transaction amounts' }),
  }),
]);
export const TransactionOut = Type.Object({
  transaction_id: Id,
  user_id: Id,
  user: UserOut,
  amount: Type.Integer(),
  description: Type.String(),
  reference: Type.Union([Type.String(), Type.Null()]),
  created_at: Time,
});
export const SpecimenOut = Type.Composite([SpecimenBrief, Type.Object({ owner: UserOut })]);
export const StampOut = Type.Object({
  stamp_id: Id,
  document_id: Id,
  stamp_type: Type.String(),
  pos_x: Type.Integer(),
  pos_y: Type.Integer(),
  rotation: Type.Number(),
});
export const DocumentOut = Type.Object({
  document_id: Id,
  document_data: Type.String(),
  seal: Type.Integer(),
  created_at: Time,
  metadata: Type.Union([Type.String(), Type.Null()]),
  stamps: Type.Array(StampOut),
});
export const EventOut = Type.Object({
  event_id: Id,
  document_id: Type.Union([Id, Type.Null()]),
  document: Type.Union([DocumentOut, Type.Null()]),
  user_id: Type.Union([Id, Type.Null()]),
  user: Type.Union([UserOut, Type.Null()]),
  user_name: Type.Union([Type.String(), Type.Null()]),
  occurred_at: Time,
  created_at: Time,
  event_type: Type.String({ enum: [...EVENT_TYPES] }),
  message: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  tier: Type.Optional(Type.Integer()),
  subscribed_length: Type.Optional(Type.Integer()),
  amount: Type.Optional(Type.Integer()),
  viewer_count: Type.Optional(Type.Integer()),
});
