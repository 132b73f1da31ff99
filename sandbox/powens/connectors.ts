// The sandbox's connectors, served by GET /2.0/connectors as Powens serves its own: a connector
// with its sources (priority, disabled, auth_mechanism) and its form fields, each field naming
// the sources it belongs to (`connector_sources`).

export type AuthMechanism = 'credentials' | 'webauth';
export type AccountType = 'checking' | 'card' | 'savings' | 'loan' | 'lifeinsurance' | 'market';

export interface ConnectorField {
  name: string;
  label: string;
  type: 'text' | 'password' | 'list' | 'date' | 'number';
  regex: string | null;
  required: boolean;
  auth_mechanisms: AuthMechanism[];
  connector_sources: string[];
  description?: string;
  values?: { value: string; label: string }[];
}

export interface ConnectorSource {
  id: number;
  id_connector: number;
  name: string;
  priority: number;
  /** A date (`YYYY-MM-DD HH:MM:SS`) when the source is disabled in the administration console, else null. */
  disabled: string | null;
  auth_mechanism: AuthMechanism;
  account_types: AccountType[];
}

export interface Connector {
  id: number;
  uuid: string;
  name: string;
  hidden: boolean;
  charged: boolean;
  beta: boolean;
  restricted: boolean;
  code: string | null;
  color: string;
  slug: string;
  urls: string[];
  capabilities: string[];
  auth_mechanism: AuthMechanism;
  sources: ConnectorSource[];
  fields: ConnectorField[];
}

const LOGIN_REGEX = '^[a-z0-9_.@-]{4,64}$';

const login = (sources: string[]): ConnectorField => ({
  name: 'login',
  label: 'Identifiant',
  type: 'text',
  regex: LOGIN_REGEX,
  required: true,
  auth_mechanisms: ['credentials'],
  connector_sources: sources,
});

const password = (sources: string[]): ConnectorField => ({
  name: 'password',
  label: 'Mot de passe',
  type: 'password',
  regex: null,
  required: true,
  auth_mechanisms: ['credentials'],
  connector_sources: sources,
});

const source = (connector: number, id: number, name: string, priority: number, mechanism: AuthMechanism, types: AccountType[]): ConnectorSource => ({
  id,
  id_connector: connector,
  name,
  priority,
  disabled: null,
  auth_mechanism: mechanism,
  account_types: types,
});

export const CONNECTORS: readonly Connector[] = [
  {
    id: 59,
    uuid: '4c8b6a2e-5f4d-4b8e-9a51-3d0c2f7e5901',
    name: 'Powens Test Bank',
    hidden: false,
    charged: false,
    beta: false,
    restricted: false,
    code: '30001',
    color: '1f6feb',
    slug: 'PTB',
    urls: ['https://testbank.sandbox.powens.example'],
    capabilities: ['bank'],
    auth_mechanism: 'credentials',
    sources: [source(59, 5901, 'directaccess', 1, 'credentials', ['checking', 'card'])],
    fields: [
      login(['directaccess']),
      password(['directaccess']),
      {
        name: 'website',
        label: 'Espace',
        type: 'list',
        regex: null,
        required: false,
        auth_mechanisms: ['credentials'],
        connector_sources: ['directaccess'],
        description: 'Particuliers by default.',
        values: [
          { value: 'par', label: 'Particuliers' },
          { value: 'pro', label: 'Professionnels' },
        ],
      },
    ],
  },
  {
    id: 60,
    uuid: '7d2e9c41-0b6a-4f3e-8c27-61a5b4d86001',
    name: 'Powens Open Banking',
    hidden: false,
    charged: false,
    beta: false,
    restricted: false,
    code: '30002',
    color: '0e7c66',
    slug: 'POB',
    urls: ['https://openbank.sandbox.powens.example'],
    capabilities: ['bank'],
    auth_mechanism: 'webauth',
    sources: [source(60, 6001, 'openapi', 1, 'webauth', ['checking', 'card'])],
    fields: [],
  },
  {
    id: 61,
    uuid: 'b51f0a7c-2e93-4d18-a6c4-9f3b7e216101',
    name: 'Banque Multi-Sources',
    hidden: false,
    charged: false,
    beta: false,
    restricted: false,
    code: '30003',
    color: 'a8324a',
    slug: 'BMS',
    urls: ['https://multi.sandbox.powens.example'],
    capabilities: ['bank', 'bankwealth'],
    auth_mechanism: 'webauth',
    // Deliberately not in priority order: clients must sort by `priority`.
    sources: [
      source(61, 6104, 'wealth', 4, 'credentials', ['lifeinsurance', 'market']),
      source(61, 6101, 'openapi', 1, 'webauth', ['checking', 'card']),
      { ...source(61, 6102, 'legacy', 2, 'credentials', ['savings']), disabled: '2024-06-30 00:00:00' },
      source(61, 6103, 'directaccess', 3, 'credentials', ['savings', 'loan']),
    ],
    fields: [
      login(['legacy', 'directaccess', 'wealth']),
      password(['legacy', 'directaccess', 'wealth']),
      {
        name: 'legacy_code',
        label: 'Code client',
        type: 'text',
        regex: '^[0-9]{8}$',
        required: true,
        auth_mechanisms: ['credentials'],
        connector_sources: ['legacy'],
      },
      {
        name: 'wealth_pin',
        label: 'Code personnel épargne (4 chiffres)',
        type: 'password',
        regex: '^[0-9]{4}$',
        required: true,
        auth_mechanisms: ['credentials'],
        connector_sources: ['wealth'],
      },
    ],
  },
];

/** A connector by id (`59`) or uuid. */
export function findConnector(idOrUuid: string): Connector | undefined {
  return CONNECTORS.find((connector) => String(connector.id) === idOrUuid || connector.uuid === idOrUuid);
}

/** The sources a client may add, lowest `priority` first (disabled ones left out). */
export function usableSources(connector: Connector): ConnectorSource[] {
  return connector.sources.filter((candidate) => candidate.disabled === null).sort((a, b) => a.priority - b.priority);
}

/** The credentials form fields of one source. */
export function fieldsOf(connector: Connector, sourceName: string): ConnectorField[] {
  return connector.fields.filter((field) => field.connector_sources.includes(sourceName) && field.auth_mechanisms.includes('credentials'));
}

/** The connector as GET /connectors shows it: `sources` and `fields` only when expanded. */
export function connectorResource(connector: Connector, expand: ReadonlySet<string>): Record<string, unknown> {
  const { sources, fields, ...rest } = connector;
  return {
    ...rest,
    ...(expand.has('sources') ? { sources } : {}),
    ...(expand.has('fields') ? { fields } : {}),
  };
}
