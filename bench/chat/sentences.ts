// Chat lines for the benchmark: a real sentence in the sender's language, built from a small word list
// and a counter, so every message is a distinct text (no translation is answered from the cache) and
// the engine translates something it has words for.

interface Words {
  subjects: string[];
  verbs: string[];
  objects: string[];
  places: string[];
  /** `(message 12)`: keeps the text distinct. */
  counter: (n: number) => string;
}

const WORDS: Record<string, Words> = {
  es: {
    subjects: ['El perro', 'La niña', 'Mi hermano', 'El profesor', 'Nuestra vecina', 'El gato', 'La doctora'],
    verbs: ['come', 'compra', 'busca', 'lee', 'vende', 'prepara', 'encuentra', 'lleva'],
    objects: ['una manzana', 'el libro rojo', 'la carta', 'un pastel', 'las flores', 'el periódico', 'una silla'],
    places: ['en la cocina', 'en el mercado', 'cerca del río', 'en la escuela', 'en el parque', 'por la mañana'],
    counter: (n) => `(mensaje ${n})`,
  },
  en: {
    subjects: ['The dog', 'The girl', 'My brother', 'The teacher', 'Our neighbour', 'The cat', 'The doctor'],
    verbs: ['eats', 'buys', 'looks for', 'reads', 'sells', 'prepares', 'finds', 'carries'],
    objects: ['an apple', 'the red book', 'the letter', 'a cake', 'the flowers', 'the newspaper', 'a chair'],
    places: ['in the kitchen', 'at the market', 'near the river', 'at school', 'in the park', 'in the morning'],
    counter: (n) => `(message ${n})`,
  },
  pt: {
    subjects: ['O cão', 'A menina', 'O meu irmão', 'O professor', 'A nossa vizinha', 'O gato', 'A médica'],
    verbs: ['come', 'compra', 'procura', 'lê', 'vende', 'prepara', 'encontra', 'leva'],
    objects: ['uma maçã', 'o livro vermelho', 'a carta', 'um bolo', 'as flores', 'o jornal', 'uma cadeira'],
    places: ['na cozinha', 'no mercado', 'perto do rio', 'na escola', 'no parque', 'de manhã'],
    counter: (n) => `(mensagem ${n})`,
  },
  fr: {
    subjects: ['Le chien', 'La fille', 'Mon frère', 'Le professeur', 'Notre voisine', 'Le chat', 'Le médecin'],
    verbs: ['mange', 'achète', 'cherche', 'lit', 'vend', 'prépare', 'trouve', 'porte'],
    objects: ['une pomme', 'le livre rouge', 'la lettre', 'un gâteau', 'les fleurs', 'le journal', 'une chaise'],
    places: ['dans la cuisine', 'au marché', 'près de la rivière', "à l'école", 'dans le parc', 'le matin'],
    counter: (n) => `(message ${n})`,
  },
  ca: {
    subjects: ['El gos', 'La nena', 'El meu germà', 'El professor', 'La nostra veïna', 'El gat', 'La metgessa'],
    verbs: ['menja', 'compra', 'busca', 'llegeix', 'ven', 'prepara', 'troba', 'porta'],
    objects: ['una poma', 'el llibre vermell', 'la carta', 'un pastís', 'les flors', 'el diari', 'una cadira'],
    places: ['a la cuina', 'al mercat', 'prop del riu', "a l'escola", 'al parc', 'al matí'],
    counter: (n) => `(missatge ${n})`,
  },
};

export const SENTENCE_LANGUAGES = Object.keys(WORDS);

const pick = (list: string[], n: number) => list[n % list.length]!;

/** Sentence number `n` in `language` (its base language's words; English for a language without a list). */
export function sentence(language: string, n: number): string {
  const w = WORDS[language.split('-')[0] ?? language] ?? WORDS.en!;
  const s = pick(w.subjects, n);
  const v = pick(w.verbs, Math.floor(n / 7));
  const o = pick(w.objects, Math.floor(n / 3));
  const p = pick(w.places, Math.floor(n / 5));
  return `${s} ${v} ${o} ${p} ${w.counter(n)}`;
}
